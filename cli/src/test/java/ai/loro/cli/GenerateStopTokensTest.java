package ai.loro.cli;

import static org.junit.jupiter.api.Assertions.*;

import ai.djl.Device;
import ai.djl.ndarray.types.DataType;
import ai.loro.core.model.GenerationConfig;
import ai.loro.core.model.HfNames;
import ai.loro.core.model.LlamaConfig;
import ai.loro.core.model.LlamaModel;
import ai.loro.core.model.ModelInit;
import ai.loro.core.model.ModelWriter;
import ai.loro.core.tokenizer.LoroTokenizer;
import ai.loro.core.tokenizer.SharedTokenizers;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Stop tokens travel: generation_config.json's eos ids and the chat template's end-of-turn tokens end
 * {@code loro generate}; its sampling defaults apply only where no flag is given.
 */
class GenerateStopTokensTest {
    static final ObjectMapper JSON = new ObjectMapper();

    @TempDir Path tmp;

    record HelloModel(Path dir, long hello, long eot) {}

    /**
     * Llama 3's tokenizer over a random 128,256-token model whose config.json lists only
     * &lt;|end_of_text|&gt; 128001, with weights set so that greedy decoding says "Hello" after any token but
     * "Hello" and &lt;|eot_id|&gt; 128009 after "Hello": attention and MLP outputs are zero, so the last
     * hidden state is the last token's embedding; every embedding points along dimension 0 except
     * "Hello"'s, along 1; the LM head reads dimension 0 into "Hello" and 1 into &lt;|eot_id|&gt;.
     */
    static HelloModel helloThenEot(Path out) throws Exception {
        Path llama3 = SharedTokenizers.dir("llama3");
        long hello;
        long eot;
        try (LoroTokenizer tok = LoroTokenizer.load(llama3)) {
            hello = tok.tokenId("Hello");
            eot = tok.tokenId("<|eot_id|>");
        }
        LlamaConfig c = LlamaConfig.parse(JSON.readTree("{\"architectures\": [\"LlamaForCausalLM\"], \"vocab_size\": 128256,"
                + " \"hidden_size\": 8, \"intermediate_size\": 16, \"num_hidden_layers\": 1, \"num_attention_heads\": 2,"
                + " \"num_key_value_heads\": 1, \"bos_token_id\": 128000, \"eos_token_id\": 128001, \"tie_word_embeddings\": false}"),
                "test config.json");
        int h = c.hiddenSize();
        Map<String, float[]> w = ModelInit.randomWeights(c, 3);
        Arrays.fill(w.get(HfNames.weight(0, HfNames.Proj.O)), 0f);
        Arrays.fill(w.get(HfNames.weight(0, HfNames.Proj.DOWN)), 0f);
        float[] embed = w.get(HfNames.EMBED);
        for (int v = 0; v < c.vocabSize(); v++) {
            embed[v * h] = 10f;
        }
        Arrays.fill(embed, (int) hello * h, (int) (hello + 1) * h, 0f);
        embed[(int) hello * h + 1] = 10f;
        float[] head = w.get(HfNames.LM_HEAD);
        Arrays.fill(head, (int) hello * h, (int) (hello + 1) * h, 0f);
        Arrays.fill(head, (int) eot * h, (int) (eot + 1) * h, 0f);
        head[(int) hello * h] = 50f;
        head[(int) eot * h + 1] = 50f;
        try (LlamaModel m = LlamaModel.fromHost(c, w, DataType.FLOAT32, Device.cpu())) {
            ModelWriter.save(out, c, m.parameters(), "F32", llama3);
        }
        return new HelloModel(out, hello, eot);
    }

    static JsonNode onlyLine(CliTest.Run r) throws Exception {
        assertEquals(0, r.code(), r.err());
        List<String> lines = r.out().lines().filter(s -> s.startsWith("{")).toList();
        assertEquals(1, lines.size(), r.out());
        return JSON.readTree(lines.get(0));
    }

    static long[] tokens(JsonNode line) {
        long[] t = new long[line.get("tokens").size()];
        for (int i = 0; i < t.length; i++) {
            t[i] = line.get("tokens").get(i).asLong();
        }
        return t;
    }

    @Test
    void llama3ModelStopsAtEotThroughTheChatTemplateOrGenerationConfig() throws Exception {
        HelloModel m = helloThenEot(tmp.resolve("hello"));
        JsonNode gen = JSON.readTree(m.dir().resolve(GenerationConfig.FILE).toFile());
        assertEquals("[128001,128009]", gen.get("eos_token_id").toString()); // config.json lists only 128001
        // the folder without generation_config.json: only --chat knows <|eot_id|>
        Path bare = tmp.resolve("bare");
        Files.createDirectories(bare);
        try (var files = Files.list(m.dir())) {
            for (Path f : files.toList()) {
                if (!f.getFileName().toString().equals(GenerationConfig.FILE)) {
                    Files.copy(f, bare.resolve(f.getFileName()));
                }
            }
        }
        Path plain = tmp.resolve("plain.jsonl");
        Files.writeString(plain, "{\"input_ids\": [128000]}\n");
        Path chat = tmp.resolve("chat.jsonl");
        Files.writeString(chat, "{\"messages\": [{\"role\": \"user\", \"content\": \"hi\"}]}\n");
        long[] stopped = {m.hello(), m.eot()};

        // without either, the model runs past <|eot_id|> to the token limit
        JsonNode runOn = onlyLine(CliTest.run("generate", "--model", bare.toString(), "--input", plain.toString(), "--max-new-tokens", "6"));
        assertArrayEquals(new long[] {m.hello(), m.eot(), m.hello(), m.eot(), m.hello(), m.eot()}, tokens(runOn));
        assertEquals("length", runOn.get("finish_reason").asText());
        CliTest.Run runOnText = CliTest.run("generate", "--model", bare.toString(), "--prompt", "hi", "--max-new-tokens", "6");
        assertEquals("HelloHelloHello", runOnText.out().strip(), runOnText.err());

        // --chat (or "messages"): the template's <|eot_id|> ends the answer, and is not in the text
        CliTest.Run chatText = CliTest.run("generate", "--model", bare.toString(), "--prompt", "hi", "--chat", "--max-new-tokens", "6");
        assertEquals(0, chatText.code(), chatText.err());
        assertEquals("Hello", chatText.out().strip());
        JsonNode chatLine = onlyLine(CliTest.run("generate", "--model", bare.toString(), "--input", chat.toString(), "--max-new-tokens", "6"));
        assertArrayEquals(stopped, tokens(chatLine));
        assertEquals("eos", chatLine.get("finish_reason").asText());
        assertEquals("Hello", chatLine.get("completion").asText());

        // the written folder's generation_config.json: a plain prompt stops there too
        JsonNode viaFile = onlyLine(CliTest.run("generate", "--model", m.dir().toString(), "--input", plain.toString(), "--max-new-tokens", "6"));
        assertArrayEquals(stopped, tokens(viaFile));
        assertEquals("eos", viaFile.get("finish_reason").asText());
        CliTest.Run fileText = CliTest.run("generate", "--model", m.dir().toString(), "--prompt", "hi", "--max-new-tokens", "6");
        assertEquals("Hello", fileText.out().strip(), fileText.err());
        assertEquals("", fileText.err()); // no sampling defaults in that file: nothing to report
        // --no-eos-stop still runs on
        JsonNode noStop = onlyLine(CliTest.run("generate", "--model", m.dir().toString(), "--input", plain.toString(),
                "--max-new-tokens", "4", "--no-eos-stop"));
        assertEquals(4, tokens(noStop).length);
    }

    @Test
    void initModelWritesConfigIdsAndTheTokenizersStopTokens() throws Exception {
        Path base = Fixtures.tinyBase(tmp);
        // Loro's byte-level ChatML tokenizer: EOS <|im_end|> 263 (config.json's too), BOS 256, <|pad|> 258
        assertEquals("{\n  \"bos_token_id\": 256,\n  \"eos_token_id\": 263,\n  \"pad_token_id\": 258\n}\n",
                Files.readString(base.resolve(GenerationConfig.FILE)));
    }

    @Test
    void mergeCommandKeepsTheBasesFieldsAndUnionsItsEosIds() throws Exception {
        Path base = Fixtures.tinyBase(tmp);
        Fixtures.shipGenerationConfig(base);
        Path data = tmp.resolve("data.jsonl");
        Files.writeString(data, "{\"instruction\": \"Add 1 and 2.\", \"input\": \"\", \"output\": \"3\"}\n".repeat(8));
        Path r = Fixtures.recipe(tmp, "lora", "sft", "data.jsonl", "alpaca",
                "adapter:\n  type: lora\n  r: 2\n  alpha: 4\n  target_modules: [q_proj]\nsequence_len: 64\nmicro_batch_size: 4\n"
                        + "max_steps: 1\nprogress_bar: false\n");
        CliTest.Run train = CliTest.run("train", r.toString());
        assertEquals(0, train.code(), train.err());
        Path out = tmp.resolve("merged-by-command");
        CliTest.Run merge = CliTest.run("merge", "--model", base.toString(), "--adapter", tmp.resolve("runs/lora/adapter").toString(),
                "--out", out.toString());
        assertEquals(0, merge.code(), merge.err());
        Fixtures.assertGenerationConfigFromBase(out);
    }

    @Test
    void samplingDefaultsResolveFlagFirstThenFileThenLoro() throws Exception {
        GenerationConfig llama = gc("{\"do_sample\": true, \"temperature\": 0.6, \"top_p\": 0.9,"
                + " \"top_k\": 40, \"max_new_tokens\": 9, \"max_length\": 100}");
        GenerateCommand.Defaults d = GenerateCommand.Defaults.resolve(llama, null, null, null, null);
        assertEquals(new GenerateCommand.Defaults(9, 0, 0.6, 40, 0.9, List.of("temperature 0.6", "top_p 0.9", "top_k 40",
                "max_new_tokens 9")), d);
        GenerateCommand.Defaults flags = GenerateCommand.Defaults.resolve(llama, 5, 0.0, 3, 0.5);
        assertEquals(new GenerateCommand.Defaults(5, 0, 0.0, 3, 0.5, List.of()), flags);
        // a flag for one field leaves the others to the file
        assertEquals(List.of("top_p 0.9", "top_k 40", "max_new_tokens 9"),
                GenerateCommand.Defaults.resolve(llama, null, 1.2, null, null).applied());
        // greedy unless do_sample is true (transformers): then top_p/top_k do not apply either
        GenerationConfig noSample = gc("{\"temperature\": 0.6, \"top_p\": 0.9}");
        assertEquals(new GenerateCommand.Defaults(64, 0, 0.0, 0, 1.0, List.of()), GenerateCommand.Defaults.resolve(noSample, null, null, null, null));
        GenerationConfig greedy = gc("{\"do_sample\": false, \"temperature\": 0.6}");
        assertEquals(new GenerateCommand.Defaults(64, 0, 0.0, 0, 1.0, List.of("do_sample false (greedy)")),
                GenerateCommand.Defaults.resolve(greedy, null, null, null, null));
        GenerationConfig sampleAtOne = gc("{\"do_sample\": true, \"max_length\": 20}");
        GenerateCommand.Defaults one = GenerateCommand.Defaults.resolve(sampleAtOne, null, null, null, null);
        assertEquals(1.0, one.temperature()); // transformers' default temperature
        assertEquals(20, one.maxLength());
        assertEquals(17, one.budget(3));
        assertEquals(0, one.budget(25));
        assertEquals(new GenerateCommand.Defaults(64, 0, 0.0, 0, 1.0, List.of()), GenerateCommand.Defaults.resolve(null, null, null, null, null));
    }

    @Test
    void generateAppliesTheFilesDefaultsOnlyWithoutFlags() throws Exception {
        Path base = Fixtures.tinyBase(tmp);
        Path in = tmp.resolve("in.jsonl");
        Files.writeString(in, "{\"input_ids\": [256, 104, 105]}\n");
        String[] common = {"generate", "--model", base.toString(), "--input", in.toString(), "--seed", "5", "--no-eos-stop"};
        // reference runs before the folder has sampling defaults (init-model's file holds ids only)
        JsonNode sampledByFlags = onlyLine(CliTest.run(concat(common, "--temperature", "0.6", "--top-p", "0.9", "--max-new-tokens", "5")));
        JsonNode greedy = onlyLine(CliTest.run(concat(common, "--max-new-tokens", "5")));
        Files.writeString(base.resolve(GenerationConfig.FILE), "{\"do_sample\": true, \"temperature\": 0.6, \"top_p\": 0.9,"
                + " \"max_new_tokens\": 5, \"repetition_penalty\": 1.2, \"eos_token_id\": 263}");
        CliTest.Run byFile = CliTest.run(common);
        assertEquals(sampledByFlags.get("tokens"), onlyLine(byFile).get("tokens"));
        assertEquals(List.of("loro: using temperature 0.6, top_p 0.9, max_new_tokens 5 from generation_config.json",
                "loro: ignoring repetition_penalty 1.2 from generation_config.json (not supported)"), byFile.err().lines().toList());
        // every flag given: the file's sampling defaults do not apply
        CliTest.Run flagged = CliTest.run(concat(common, "--temperature", "0", "--top-p", "1", "--top-k", "0", "--max-new-tokens", "5"));
        assertEquals(greedy.get("tokens"), onlyLine(flagged).get("tokens"));
        assertFalse(flagged.err().contains("loro: using"), flagged.err());
        // do_sample false: greedy
        Files.writeString(base.resolve(GenerationConfig.FILE), "{\"do_sample\": false, \"temperature\": 0.9, \"max_new_tokens\": 5}");
        CliTest.Run greedyByFile = CliTest.run(common);
        assertEquals(greedy.get("tokens"), onlyLine(greedyByFile).get("tokens"));
        assertTrue(greedyByFile.err().contains("loro: using do_sample false (greedy), max_new_tokens 5 from generation_config.json"),
                greedyByFile.err());
        // max_length counts the prompt: each row of a batch gets max_length minus its own length
        Files.writeString(base.resolve(GenerationConfig.FILE), "{\"max_length\": 6}");
        Path two = tmp.resolve("two.jsonl");
        Files.writeString(two, "{\"input_ids\": [256, 104]}\n{\"input_ids\": [256, 104, 105, 106]}\n");
        CliTest.Run capped = CliTest.run("generate", "--model", base.toString(), "--input", two.toString(), "--no-eos-stop");
        assertEquals(0, capped.code(), capped.err());
        List<String> lines = capped.out().lines().filter(s -> s.startsWith("{")).toList();
        assertEquals(4, JSON.readTree(lines.get(0)).get("tokens").size());
        assertEquals(2, JSON.readTree(lines.get(1)).get("tokens").size());
        assertEquals("length", JSON.readTree(lines.get(1)).get("finish_reason").asText());
        // a bad field: one line naming the file and the field
        Files.writeString(base.resolve(GenerationConfig.FILE), "{\"top_k\": \"many\"}");
        CliTest.assertOneLineError(CliTest.run(common), base.resolve(GenerationConfig.FILE) + ": 'top_k' must be an integer >= 0");
    }

    static GenerationConfig gc(String json) throws Exception {
        return GenerationConfig.parse(JSON.readTree(json), "test generation_config.json", 1000);
    }

    static String[] concat(String[] a, String... b) {
        String[] out = Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, out, a.length, b.length);
        return out;
    }
}
