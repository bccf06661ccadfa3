package ai.loro.export;

import static org.junit.jupiter.api.Assertions.*;

import ai.loro.core.LoroException;
import ai.loro.core.io.Bf16;
import ai.loro.core.io.Checkpoint;
import ai.loro.core.model.LlamaConfig;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The GGUF files themselves, read back with an independent reader, against the rules in docs/gguf.md. */
class GgufFormatTest {
    @TempDir static Path tmp;
    static Path model;
    static Path gguf;
    static GgufTestReader r;

    @BeforeAll
    static void export() throws Exception {
        model = ExportFixtures.model(tmp.resolve("m"), ExportFixtures.withLlama3Rope(ExportFixtures.llamaConfig()), "llama3", 3);
        gguf = tmp.resolve("m.gguf");
        GgufModelExport.export(model, null, gguf, GgmlType.F32);
        r = new GgufTestReader(gguf);
    }

    @Test
    void headerMetadataAndAlignment() {
        assertEquals(3, r.version);
        assertEquals("llama", r.metadata.get("general.architecture"));
        assertEquals("model", r.metadata.get("general.type"));
        assertEquals(0L, r.metadata.get("general.file_type"));
        assertEquals(64L, r.metadata.get("llama.embedding_length"));
        assertEquals(2L, r.metadata.get("llama.block_count"));
        assertEquals(128L, r.metadata.get("llama.feed_forward_length"));
        assertEquals(4L, r.metadata.get("llama.attention.head_count"));
        assertEquals(2L, r.metadata.get("llama.attention.head_count_kv"));
        assertEquals(16L, r.metadata.get("llama.rope.dimension_count"));
        assertEquals(16L, r.metadata.get("llama.attention.key_length"));
        assertEquals(8192L, r.metadata.get("llama.context_length"));
        assertEquals(500000f, r.metadata.get("llama.rope.freq_base"));
        assertEquals(1e-5f, r.metadata.get("llama.attention.layer_norm_rms_epsilon"));
        assertFalse(r.metadata.containsKey("llama.rope.scaling.type"), "llama3 scaling goes in rope_freqs, not keys");
        for (GgufTestReader.TensorInfo t : r.tensors.values()) {
            assertEquals(0, t.offset() % 32, t.name() + " offset aligned");
        }
        assertEquals(0, r.dataStart % 32);
    }

    @Test
    void tiedHeadHasNoOutputTensorAndNamesFollowLlamaCpp() {
        assertFalse(r.tensors.containsKey("output.weight"));
        assertTrue(r.tensors.keySet().containsAll(List.of("token_embd.weight", "output_norm.weight", "rope_freqs.weight",
                "blk.0.attn_norm.weight", "blk.0.attn_q.weight", "blk.0.attn_k.weight", "blk.0.attn_v.weight",
                "blk.0.attn_output.weight", "blk.0.ffn_norm.weight", "blk.0.ffn_gate.weight", "blk.0.ffn_up.weight",
                "blk.1.ffn_down.weight")));
        assertEquals(1 + 1 + 2 * 9 + 1, r.tensors.size());
        // dims reversed: HF q_proj [out 64, in 64], ffn_down [64, 128] -> ne [128, 64]
        assertArrayEquals(new long[] {128, 64}, r.tensors.get("blk.0.ffn_down.weight").dims());
        assertArrayEquals(new long[] {64, 32}, r.tensors.get("blk.0.attn_k.weight").dims());
        assertArrayEquals(new long[] {64, 264}, r.tensors.get("token_embd.weight").dims());
    }

    @Test
    void qkRowsArePermutedToAdjacentPairsAndOthersAreNot() {
        try (Checkpoint ck = Checkpoint.open(model)) {
            float[] q = ck.readFloats("model.layers.1.self_attn.q_proj.weight");
            float[] k = ck.readFloats("model.layers.1.self_attn.k_proj.weight");
            float[] v = ck.readFloats("model.layers.1.self_attn.v_proj.weight");
            float[] gq = r.f32("blk.1.attn_q.weight");
            float[] gk = r.f32("blk.1.attn_k.weight");
            int hd = 16, cols = 64;
            // new row h*hd + 2i + t = old row h*hd + t*hd/2 + i
            for (int h = 0; h < 4; h++) {
                for (int i = 0; i < hd / 2; i++) {
                    for (int t = 0; t < 2; t++) {
                        int newRow = h * hd + 2 * i + t, oldRow = h * hd + t * hd / 2 + i;
                        for (int c = 0; c < cols; c++) {
                            assertEquals(q[oldRow * cols + c], gq[newRow * cols + c]);
                            if (h < 2) {
                                assertEquals(k[oldRow * cols + c], gk[newRow * cols + c]);
                            }
                        }
                    }
                }
            }
            assertArrayEquals(v, r.f32("blk.1.attn_v.weight"));
            assertFalse(java.util.Arrays.equals(q, gq), "the permutation moved rows");
        }
    }

    @Test
    void ropeFreqsFollowTheLlama3RuleWrittenOutByHand() {
        float[] got = r.f32("rope_freqs.weight");
        assertEquals(8, got.length);
        double theta = 500000, factor = 8, low = 1, high = 4, orig = 256;
        for (int i = 0; i < 8; i++) {
            double f = 1 / Math.pow(theta, 2.0 * i / 16);
            double wavelen = 2 * Math.PI / f;
            double expected;
            if (wavelen < orig / high) {
                expected = 1;
            } else if (wavelen > orig / low) {
                expected = factor;
            } else {
                double s = (orig / wavelen - low) / (high - low);
                expected = 1 / ((1 - s) / factor + s);
            }
            assertEquals(expected, got[i], 1e-5 * expected, "divisor " + i);
        }
        // the fixture crosses all three bands
        assertEquals(1f, got[0]);
        assertEquals(8f, got[7]);
        assertTrue(got[2] > 1 && got[2] < 8, "interpolated band: " + got[2]);
    }

    @Test
    void q8BlocksByHand() {
        float[] x = new float[64];
        for (int i = 0; i < 32; i++) {
            x[i] = i - 10.5f; // block 1: max |x| = 20.5
        }
        x[40] = -3f; // block 2: one value, the rest 0
        byte[] b = GgmlType.Q8_0.encode(x, "t");
        assertEquals(68, b.length);
        ByteBuffer bb = ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN);
        float d = 20.5f / 127f;
        assertEquals(Bf16.floatToFp16(d), bb.getShort(0));
        for (int i = 0; i < 32; i++) {
            assertEquals(GgmlType.roundHalfAway(x[i] / d), b[2 + i], "q" + i);
        }
        assertEquals(127, b[2 + 31]);
        assertEquals(-65, b[2]); // -10.5 / (20.5/127) = -65.05
        float d2 = 3f / 127f;
        assertEquals(Bf16.floatToFp16(d2), bb.getShort(34));
        assertEquals(-127, b[36 + 8]);
        assertEquals(0, b[36]);
        assertEquals(3, GgmlType.roundHalfAway(2.5f));
        assertEquals(-3, GgmlType.roundHalfAway(-2.5f));
        assertEquals(0, GgmlType.Q8_0.encode(new float[32], "zeros")[1]);
    }

    @Test
    void q8FallsBackToF16ForRowsNotDivisibleBy32AndSetsFileType() throws Exception {
        Path q8 = tmp.resolve("m-q8.gguf");
        GgufModelExport.export(model, null, q8, GgmlType.Q8_0);
        GgufTestReader q = new GgufTestReader(q8);
        assertEquals(7L, q.metadata.get("general.file_type"));
        assertEquals(8, q.tensors.get("blk.0.attn_q.weight").type());
        assertEquals(8, q.tensors.get("token_embd.weight").type());
        assertEquals(0, q.tensors.get("blk.0.attn_norm.weight").type(), "norms stay f32");
        assertEquals(GgmlType.F16, GgmlType.Q8_0.forRowLength(48));
        assertEquals(GgmlType.Q8_0, GgmlType.Q8_0.forRowLength(64));
        assertTrue(Files.size(q8) < Files.size(gguf) / 3);
    }

    @Test
    void f16RefusesValuesBeyondHalfRange() {
        LoroException e = assertThrows(LoroException.class, () -> GgmlType.F16.encode(new float[] {1, 70000f}, "big.weight"));
        assertTrue(e.getMessage().contains("big.weight element 1"), e.getMessage());
    }

    @Test
    void tokenizerMetadata() {
        @SuppressWarnings("unchecked")
        List<Object> tokens = (List<Object>) r.metadata.get("tokenizer.ggml.tokens");
        @SuppressWarnings("unchecked")
        List<Object> types = (List<Object>) r.metadata.get("tokenizer.ggml.token_type");
        assertEquals(264, tokens.size());
        assertEquals("gpt2", r.metadata.get("tokenizer.ggml.model"));
        assertEquals("gpt-2", r.metadata.get("tokenizer.ggml.pre"));
        assertEquals("<|eot_id|>", tokens.get(261));
        assertEquals(3, types.get(261), "special added tokens are control tokens");
        assertEquals(1, types.get(65), "byte tokens are normal");
        assertEquals(256L, r.metadata.get("tokenizer.ggml.bos_token_id"));
        // this byte tokenizer's EOS is its template's end of turn, so no separate eot id is written
        assertEquals(261L, r.metadata.get("tokenizer.ggml.eos_token_id"));
        assertFalse(r.metadata.containsKey("tokenizer.ggml.eot_token_id"));
        assertEquals(true, r.metadata.get("tokenizer.ggml.add_bos_token"));
        assertTrue(((String) r.metadata.get("tokenizer.chat_template")).contains("<|start_header_id|>"));
    }

    @Test
    void preTokenizerFamiliesAreNamedOrRefused() throws Exception {
        Path llama3 = SharedTokenizer.llama3();
        var json = ExportFixtures.JSON;
        assertEquals("llama-bpe", GgufTokenizer.preTokenizer(json.readTree(llama3.resolve("tokenizer.json").toFile())
                .get("pre_tokenizer"), llama3));
        Path qwen3 = SharedTokenizer.qwen3();
        assertEquals("qwen2", GgufTokenizer.preTokenizer(json.readTree(qwen3.resolve("tokenizer.json").toFile())
                .get("pre_tokenizer"), qwen3));
        ObjectNode odd = (ObjectNode) json.readTree("{\"type\": \"Sequence\", \"pretokenizers\": [{\"type\": \"Split\","
                + " \"pattern\": {\"Regex\": \"\\\\p{L}+|\\\\s+\"}, \"behavior\": \"Isolated\"}, {\"type\": \"ByteLevel\","
                + " \"use_regex\": false}]}");
        LoroException e = assertThrows(LoroException.class, () -> GgufTokenizer.preTokenizer(odd, Path.of("t/tokenizer.json")));
        assertTrue(e.getMessage().contains("not a pre-tokenizer family llama.cpp names"), e.getMessage());
        ObjectNode metaspace = (ObjectNode) json.readTree("{\"type\": \"Metaspace\", \"replacement\": \"_\"}");
        assertThrows(LoroException.class, () -> GgufTokenizer.preTokenizer(metaspace, Path.of("t/tokenizer.json")));
    }

    @Test
    void loraFileLayout() throws Exception {
        Path adapter = ExportFixtures.adapter(model, tmp.resolve("a"), ExportFixtures.lora(4, 16, false, java.util.Map.of()), 2);
        Path out = tmp.resolve("a.gguf");
        GgufLoraExport.export(model, adapter, out, GgmlType.F16);
        GgufTestReader a = new GgufTestReader(out);
        assertEquals("adapter", a.metadata.get("general.type"));
        assertEquals("lora", a.metadata.get("adapter.type"));
        assertEquals(16f, a.metadata.get("adapter.lora.alpha"));
        assertEquals("llama", a.metadata.get("general.architecture"));
        assertEquals(28, a.tensors.size());
        // PEFT A [r 4, in 64] -> ne [64, 4]; B of q [out 64, r 4] -> ne [4, 64]; of down [64, 4]
        assertArrayEquals(new long[] {64, 4}, a.tensors.get("blk.0.attn_q.weight.lora_a").dims());
        assertArrayEquals(new long[] {4, 64}, a.tensors.get("blk.0.attn_q.weight.lora_b").dims());
        assertArrayEquals(new long[] {128, 4}, a.tensors.get("blk.1.ffn_down.weight.lora_a").dims());
        assertEquals(1, a.tensors.get("blk.0.attn_q.weight.lora_a").type());
    }

    @Test
    void configOfTheFixtureIsWhatTheTestsAssume() {
        LlamaConfig c = LlamaConfig.read(model);
        assertEquals(16, c.headDim());
        assertEquals("llama3", c.ropeScaling().type());
    }
}
