package ai.loro.export;

import static org.junit.jupiter.api.Assertions.*;

import ai.loro.core.tokenizer.LoroTokenizer;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * What Loro exports, read back by real llama.cpp (node-llama-cpp 3.22.1, CPU): its next-token
 * log-probabilities over the whole vocabulary, at every position of fixed token ids, equal Loro's own.
 * The context uses an F32 KV cache and no flash attention, so the only differences left are float32
 * summation order (measured ~1e-5) and, for f16 / q8_0 files, the rounding of the stored weights.
 */
class LlamaCppParityTest {
    @TempDir static Path tmp;
    static Path base;
    static Path rsLora;
    /** BOS, then bytes of "Shift cafe: dbgf. Shift bead: cfbe.\n\n", then the chat markers 259, 260, 261. */
    static long[] ids;

    static final double F32_TOLERANCE = 1e-3;
    /**
     * Measured on these fixtures (initializer_range 0.5: logits spread over ~60 nats, so the far tail of
     * the vocabulary shows every rounding): see README "Into serving" for the figures; bounds ~3x them.
     */
    static final double F16_TOLERANCE = 0.4, F16_LIKELY = 0.3, Q8_TOLERANCE = 7.0, Q8_LIKELY = 3.0;

    @BeforeAll
    static void models() throws Exception {
        LlamaCpp.assumeAvailable();
        base = ExportFixtures.model(tmp.resolve("base"), ExportFixtures.withLlama3Rope(ExportFixtures.llamaConfig()), "llama3", 11);
        rsLora = ExportFixtures.adapter(base, tmp.resolve("rslora"), ExportFixtures.lora(4, 8, true, Map.of()), 5);
        byte[] text = "Shift cafe: dbgf. Shift bead: cfbe.\n\n".getBytes(StandardCharsets.UTF_8);
        ids = new long[text.length + 4];
        ids[0] = 256;
        for (int i = 0; i < text.length; i++) {
            ids[i + 1] = text[i] & 0xFF;
        }
        ids[text.length + 1] = 259;
        ids[text.length + 2] = 260;
        ids[text.length + 3] = 261;
    }

    static double diff(Path gguf, Path lora, float[][] expected) throws Exception {
        return diffs(gguf, lora, expected)[0];
    }

    /** {max |Δ log p| over the whole vocabulary, the same over the tokens Loro gives p >= 1e-3}. */
    static double[] diffs(Path gguf, Path lora, float[][] expected) throws Exception {
        LlamaCpp.Output o = LlamaCpp.run(gguf, lora, List.of(ids), List.of());
        double all = LlamaCpp.maxAbsDiff(o.logProbs().get(0), expected);
        double likely = LlamaCpp.maxAbsDiff(o.logProbs().get(0), expected, Math.log(1e-3));
        System.out.printf("llama.cpp vs Loro, %s%s: max |Δ log p| = %.3g over the vocabulary, %.3g where p >= 1e-3%n",
                gguf.getFileName(), lora == null ? "" : " + " + lora.getFileName(), all, likely);
        return new double[] {all, likely};
    }

    @Test
    void baseModelGqaLlama3RopeTiedInF32F16AndQ8() throws Exception {
        float[][] loro = ExportFixtures.logProbs(base, null, ids);
        Path f32 = tmp.resolve("base-f32.gguf");
        GgufModelExport.export(base, null, f32, GgmlType.F32);
        assertTrue(diff(f32, null, loro) <= F32_TOLERANCE);
        // f16: llama.cpp also rounds the activations to f16 for its f16 matmuls; measured against Loro on
        // the same f16-rounded weights (the file's own numbers) and on the f32 original
        Path f16Model = ExportFixtures.roundedCopy(base, tmp.resolve("base-f16-weights"), "F16");
        Path f16 = tmp.resolve("base-f16.gguf");
        GgufModelExport.export(base, null, f16, GgmlType.F16);
        double[] f16OwnWeights = diffs(f16, null, ExportFixtures.logProbs(f16Model, null, ids));
        double[] f16Original = diffs(f16, null, loro);
        assertTrue(f16OwnWeights[0] <= F16_TOLERANCE && f16Original[0] <= F16_TOLERANCE, "f16 over the vocabulary");
        assertTrue(f16OwnWeights[1] <= F16_LIKELY && f16Original[1] <= F16_LIKELY, "f16 where p >= 1e-3");
        Path q8 = tmp.resolve("base-q8_0.gguf");
        GgufModelExport.export(base, null, q8, GgmlType.Q8_0);
        double[] q8Diff = diffs(q8, null, loro);
        assertTrue(q8Diff[0] <= Q8_TOLERANCE, "q8_0 over the vocabulary: " + q8Diff[0]);
        assertTrue(q8Diff[1] <= Q8_LIKELY, "q8_0 where p >= 1e-3: " + q8Diff[1]);
    }

    @Test
    void headDimOverrideUntiedHeadAttentionBiasesLinearRope() throws Exception {
        ObjectNode c = ExportFixtures.llamaConfig();
        c.put("head_dim", 32); // 4 heads x 32 = 128 != hidden 64
        c.put("tie_word_embeddings", false);
        c.put("attention_bias", true);
        c.putObject("rope_scaling").put("rope_type", "linear").put("factor", 2.0);
        Path model = ExportFixtures.model(tmp.resolve("headdim"), c, "chatml", 12);
        Path gguf = tmp.resolve("headdim.gguf");
        GgufModelExport.export(model, null, gguf, GgmlType.F32);
        assertTrue(diff(gguf, null, ExportFixtures.logProbs(model, null, ids)) <= F32_TOLERANCE);
    }

    @Test
    void qwen2WithQkvBiasesAndNoPermutation() throws Exception {
        ObjectNode c = ExportFixtures.llamaConfig();
        c.putArray("architectures").removeAll().add("Qwen2ForCausalLM");
        c.put("rope_theta", 1000000.0);
        Path model = ExportFixtures.model(tmp.resolve("qwen2"), c, "chatml", 13);
        Path gguf = tmp.resolve("qwen2.gguf");
        GgufModelExport.Result r = GgufModelExport.export(model, null, gguf, GgmlType.F32);
        assertEquals("qwen2", r.architecture());
        assertTrue(diff(gguf, null, ExportFixtures.logProbs(model, null, ids)) <= F32_TOLERANCE);
    }

    @Test
    void mergedModelAndBasePlusLoraGgufEqualLoroWithTheAdapter() throws Exception {
        float[][] withAdapter = ExportFixtures.logProbs(base, rsLora, ids);
        // the adapter must move the numbers far more than the tolerance, or this test proves nothing
        assertTrue(LlamaCpp.maxAbsDiff(withAdapter, ExportFixtures.logProbs(base, null, ids)) > 0.5);
        Path merged = tmp.resolve("merged.gguf");
        GgufModelExport.export(base, rsLora, merged, GgmlType.F32);
        assertTrue(diff(merged, null, withAdapter) <= F32_TOLERANCE);

        Path baseGguf = tmp.resolve("base-for-lora.gguf");
        GgufModelExport.export(base, null, baseGguf, GgmlType.F32);
        Path loraGguf = tmp.resolve("rslora.gguf");
        GgufLoraExport.Result r = GgufLoraExport.export(base, rsLora, loraGguf, GgmlType.F32);
        assertEquals(14, r.modules()); // 7 projections x 2 layers
        assertEquals(8 * Math.sqrt(4), r.alpha(), 1e-12); // rsLoRA alpha/sqrt(r) written as alpha*sqrt(r) over r
        assertTrue(diff(baseGguf, loraGguf, withAdapter) <= F32_TOLERANCE);
    }

    @Test
    void greedyContinuationsInLlamaCppEqualLoros() throws Exception {
        Path merged = tmp.resolve("merged-greedy.gguf");
        GgufModelExport.export(base, rsLora, merged, GgmlType.F32);
        long[] prompt = java.util.Arrays.copyOf(ids, 12);
        int n = 24;
        LlamaCpp.Output o = LlamaCpp.run(merged, null, List.of(), List.of(), List.of(new LlamaCpp.Greedy(prompt, n)));
        // Loro's greedy continuation, one full forward per token (argmax of the last position)
        long[] seq = prompt;
        for (int i = 0; i < n; i++) {
            float[][] lp = ExportFixtures.logProbs(base, rsLora, seq);
            float[] last = lp[lp.length - 1];
            int best = 0;
            for (int v = 1; v < last.length; v++) {
                if (last[v] > last[best]) {
                    best = v;
                }
            }
            seq = java.util.Arrays.copyOf(seq, seq.length + 1);
            seq[seq.length - 1] = best;
        }
        assertArrayEquals(java.util.Arrays.copyOfRange(seq, prompt.length, seq.length), o.generated().get(0));
    }

    @Test
    void loraGgufWithPerModuleRanks() throws Exception {
        Path adapter = ExportFixtures.adapter(base, tmp.resolve("ranks"),
                ExportFixtures.lora(8, 16, false, Map.of("q_proj", 2, "down_proj", 4)), 6);
        Path baseGguf = tmp.resolve("base-for-ranks.gguf");
        GgufModelExport.export(base, null, baseGguf, GgmlType.F32);
        Path loraGguf = tmp.resolve("ranks.gguf");
        GgufLoraExport.export(base, adapter, loraGguf, GgmlType.F32);
        assertTrue(diff(baseGguf, loraGguf, ExportFixtures.logProbs(base, adapter, ids)) <= F32_TOLERANCE);
    }

    @Test
    void realLlama3TokenizerTokenizesLikeHfAndCarriesTemplateAndStops() throws Exception {
        Path tokDir = SharedTokenizer.llama3();
        ObjectNode c = ExportFixtures.withLlama3Rope(ExportFixtures.llamaConfig());
        c.put("vocab_size", 128256);
        c.put("bos_token_id", 128000);
        c.put("eos_token_id", 128001);
        Path model = ExportFixtures.model(tmp.resolve("llama3"), c, tokDir, 14);
        Path gguf = tmp.resolve("llama3.gguf");
        GgufModelExport.export(model, null, gguf, GgmlType.F32);
        List<String> texts = List.of("Hello world", "  two leading spaces and trailing  ", "a\n\nb\n\n\nc",
                "tabs\tand\r\nCRLF", "naïve café, 日本語, emoji 🤖🎉", "numbers 1234567 and 3.14159",
                "<|start_header_id|>user<|end_header_id|>\n\nHi<|eot_id|>", "don't won't I'm we'll");
        long[] chat = {128000, 128006, 882, 128007, 271, 13347, 128009, 128006, 78191, 128007, 271};
        LlamaCpp.Output o = LlamaCpp.run(gguf, null, List.of(chat), texts);
        try (LoroTokenizer tok = LoroTokenizer.load(model)) {
            for (int i = 0; i < texts.size(); i++) {
                assertArrayEquals(tok.encode(texts.get(i), false), o.tokens().get(i), "tokens of " + texts.get(i));
            }
            assertEquals(tok.chatTemplate().source(), o.metadata().get("chat_template").asText());
        }
        assertEquals("llama-bpe", o.metadata().get("pre").asText());
        assertEquals(128000, o.metadata().get("bos").asLong());
        assertEquals(128001, o.metadata().get("eos").asLong());
        assertEquals(128009, o.metadata().get("eot").asLong());
        assertTrue(o.endOfGeneration().containsAll(List.of(128001L, 128009L)), "end-of-generation ids " + o.endOfGeneration());
        double d = LlamaCpp.maxAbsDiff(o.logProbs().get(0), ExportFixtures.logProbs(model, null, chat));
        System.out.printf("llama.cpp vs Loro, 128,256-token vocabulary: max |Δ log p| = %.3g%n", d);
        assertTrue(d <= F32_TOLERANCE);
        assertTrue(Files.size(gguf) > 128256L * 64 * 4);
    }
}
