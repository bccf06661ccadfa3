package ai.loro.core.model;

import static org.junit.jupiter.api.Assertions.*;

import ai.djl.Device;
import ai.djl.ndarray.types.DataType;
import ai.loro.core.LoroException;
import ai.loro.core.tokenizer.LoroTokenizer;
import ai.loro.core.tokenizer.SharedTokenizers;
import ai.loro.core.tokenizer.StopTokens;
import ai.loro.core.tokenizer.TinyTokenizers;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** generation_config.json: reading with typed one-line errors, and what ModelWriter writes beside every model. */
class GenerationConfigTest {
    static final ObjectMapper JSON = new ObjectMapper();

    @TempDir Path tmp;

    /** A tiny model over Loro's byte-level ChatML tokenizer (eos &lt;|im_end|&gt; 263) with config.json eos {@code eos}. */
    static LlamaConfig byteConfig(long eos) {
        ObjectNode o = TinyConfigs.json(TinyTokenizers.VOCAB_SIZE, 16, 24, 1, 2, 1);
        o.put("bos_token_id", 256);
        o.put("eos_token_id", eos);
        return TinyConfigs.parse(o);
    }

    static void save(Path out, LlamaConfig c, Path tokenizerDir) {
        try (LlamaModel m = LlamaModel.fromHost(c, ModelInit.randomWeights(c, 1), DataType.FLOAT32, Device.cpu())) {
            ModelWriter.save(out, c, m.parameters(), "F32", tokenizerDir);
        }
    }

    @Test
    void readsIdsAsIntOrListAndSamplingFields() throws Exception {
        Files.writeString(tmp.resolve(GenerationConfig.FILE), "{\"bos_token_id\": 1, \"eos_token_id\": [2, 5, 2], \"do_sample\": true,"
                + " \"temperature\": 0.6, \"top_p\": 0.9, \"top_k\": 40, \"max_new_tokens\": 7, \"repetition_penalty\": 1.1,"
                + " \"transformers_version\": \"4.45.0\"}");
        GenerationConfig g = GenerationConfig.read(tmp, 37);
        assertEquals(1L, g.bosTokenId());
        assertEquals(List.of(2L, 5L), g.eosTokenIds());
        assertNull(g.padTokenId());
        assertEquals(Boolean.TRUE, g.doSample());
        assertEquals(0.6, g.temperature());
        assertEquals(0.9, g.topP());
        assertEquals(40, g.topK());
        assertEquals(7, g.maxNewTokens());
        assertNull(g.maxLength());
        assertEquals(1.1, g.repetitionPenalty());
        assertEquals("4.45.0", g.fields().get("transformers_version"));
        Files.writeString(tmp.resolve(GenerationConfig.FILE), "{\"eos_token_id\": 3}");
        assertEquals(List.of(3L), GenerationConfig.read(tmp, 37).eosTokenIds());
        assertNull(GenerationConfig.read(tmp.resolve("nowhere"), 37));
    }

    @Test
    void badFieldsAreOneLineNamingFileAndField() throws Exception {
        Path file = tmp.resolve(GenerationConfig.FILE);
        String[][] cases = {
            {"{\"temperature\": \"hot\"}", "'temperature' must be a number >= 0"},
            {"{\"top_p\": 1.5}", "'top_p' must be a number in (0, 1]"},
            {"{\"top_k\": 2.5}", "'top_k' must be an integer >= 0"},
            {"{\"do_sample\": \"yes\"}", "'do_sample' must be true or false"},
            {"{\"max_new_tokens\": -1}", "'max_new_tokens' must be an integer >= 0"},
            {"{\"eos_token_id\": [2, 99]}", "'eos_token_id' must be a token id in [0, 37) or a list of them, got 99"},
            {"{\"eos_token_id\": \"</s>\"}", "'eos_token_id' must be a token id"},
            {"{\"pad_token_id\": [1]}", "'pad_token_id' must be one token id"},
            {"[1]", "expected a JSON object"},
            {"{", "not valid JSON"},
        };
        for (String[] c : cases) {
            Files.writeString(file, c[0]);
            LoroException e = assertThrows(LoroException.class, () -> GenerationConfig.read(tmp, 37), c[0]);
            assertTrue(e.getMessage().startsWith(file.toString() + ": ") && e.getMessage().contains(c[1]), e.getMessage());
            assertFalse(e.getMessage().contains("\n"), e.getMessage());
        }
    }

    @Test
    void writerUnionsEosInOrderAndKeepsTheSourceFields() throws Exception {
        Path src = tmp.resolve("src");
        TinyTokenizers.writeByteLevel(src, "chatml");
        // the source ships sampling defaults and lists <|end_of_text|> 257 and <|eot_id|> 261
        Files.writeString(src.resolve(GenerationConfig.FILE), "{\"eos_token_id\": [257, 261], \"do_sample\": true,"
                + " \"temperature\": 0.7, \"transformers_version\": \"4.45.0\"}");
        Path out = tmp.resolve("out");
        save(out, byteConfig(257), src);
        JsonNode g = JSON.readTree(out.resolve(GenerationConfig.FILE).toFile());
        // config.json's 257, the source's 261, then StopTokens of the ChatML tokenizer: its EOS <|im_end|> 263
        assertEquals("[257,261,263]", g.get("eos_token_id").toString());
        assertEquals(256, g.get("bos_token_id").asInt());
        assertEquals(258, g.get("pad_token_id").asInt()); // the tokenizer's <|pad|>: config.json has none
        assertEquals(0.7, g.get("temperature").asDouble());
        assertTrue(g.get("do_sample").asBoolean());
        assertEquals("4.45.0", g.get("transformers_version").asText());
        // transformers' layout: sorted keys, two-space indent, a final newline
        String text = Files.readString(out.resolve(GenerationConfig.FILE));
        assertTrue(text.startsWith("{\n  \"bos_token_id\": 256,\n  \"do_sample\": true,\n  \"eos_token_id\": [\n    257,\n"), text);
        assertTrue(text.endsWith("\"transformers_version\": \"4.45.0\"\n}\n"), text);
        // written from the written folder again, nothing changes (the union is idempotent)
        Path again = tmp.resolve("again");
        save(again, byteConfig(257), out);
        assertEquals(text, Files.readString(again.resolve(GenerationConfig.FILE)));
        try (var files = Files.list(tmp)) { // no temp folder or file left behind
            assertEquals(List.of(), files.filter(p -> p.getFileName().toString().contains(".tmp-")).toList());
        }
    }

    @Test
    void aFolderWithoutTokenizerGetsConfigIds() throws Exception {
        ObjectNode o = TinyConfigs.json(37, 16, 24, 1, 2, 1);
        o.putArray("eos_token_id").add(2).add(3);
        o.put("pad_token_id", 0);
        Path out = tmp.resolve("bare");
        save(out, TinyConfigs.parse(o), null);
        assertEquals("{\n  \"bos_token_id\": 1,\n  \"eos_token_id\": [\n    2,\n    3\n  ],\n  \"pad_token_id\": 0\n}\n",
                Files.readString(out.resolve(GenerationConfig.FILE)));
        Path one = tmp.resolve("one");
        save(one, TinyConfigs.gqa(), null);
        assertEquals(2, JSON.readTree(one.resolve(GenerationConfig.FILE).toFile()).get("eos_token_id").asInt()); // one id: an int
    }

    @Test
    void llama3BaseTokenizerAddsEotToEndOfText() {
        Path llama3 = SharedTokenizers.dir("llama3");
        try (LoroTokenizer tok = LoroTokenizer.load(llama3)) {
            // the base tokenizer's EOS is <|end_of_text|>; its chat template ends turns with <|eot_id|>
            assertEquals(List.of("<|end_of_text|>", "<|eot_id|>"), StopTokens.texts(tok));
            assertEquals(List.of(128001L, 128009L), StopTokens.ids(tok));
            ObjectNode o = TinyConfigs.json(128256, 16, 24, 1, 2, 1);
            o.put("bos_token_id", 128000);
            o.put("eos_token_id", 128001);
            GenerationConfig g = GenerationConfig.merged(TinyConfigs.parse(o), null, tok);
            assertEquals(List.of(128001L, 128009L), g.eosTokenIds());
            assertEquals(128000L, g.bosTokenId());
            assertNull(g.padTokenId()); // Llama 3 has no pad token
        }
    }
}
