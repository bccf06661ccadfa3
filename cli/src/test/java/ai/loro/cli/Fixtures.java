package ai.loro.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;

/** A tiny random base with Loro's byte-level ChatML tokenizer, and learnable preference data. */
final class Fixtures {
    private Fixtures() {}

    static final String[] TOPICS = {"the weather", "soup", "homework", "a book", "bikes", "Java", "tomatoes", "gifts",
        "trains", "money", "poems", "cats", "shoes", "the moon", "interviews", "paint"};

    /** initializer_range 0.3: with 0.02 a frozen random tied head cannot express logits beyond about ±0.6. */
    static Path tinyBase(Path dir) throws Exception {
        Path cfg = dir.resolve("shape.json");
        Files.writeString(cfg, "{\"architectures\":[\"LlamaForCausalLM\"],\"vocab_size\":264,\"hidden_size\":32,"
                + "\"intermediate_size\":64,\"num_hidden_layers\":2,\"num_attention_heads\":4,\"num_key_value_heads\":2,"
                + "\"bos_token_id\":256,\"eos_token_id\":263,\"pad_token_id\":258,\"tie_word_embeddings\":true,"
                + "\"initializer_range\":0.3}");
        Path base = dir.resolve("base");
        assertEquals(0, CliTest.run("init-model", "--config", cfg.toString(), "--out", base.toString(),
                "--byte-tokenizer", "chatml").code());
        return base;
    }

    /**
     * Gives a {@link #tinyBase} a generation_config.json as a released model ships one: sampling defaults, a
     * transformers version, and &lt;|end_of_text|&gt; 257 listed beside the EOS 263.
     */
    static void shipGenerationConfig(Path base) throws Exception {
        Files.writeString(base.resolve("generation_config.json"), "{\"do_sample\": true, \"eos_token_id\": [257, 263],"
                + " \"temperature\": 0.7, \"transformers_version\": \"4.45.0\"}");
    }

    /**
     * A model folder written from a base given {@link #shipGenerationConfig}: the base's fields kept, eos ids
     * config.json's 263 then the base file's 257 (the tokenizer's stop tokens add none), bos and pad from config.json.
     */
    static void assertGenerationConfigFromBase(Path modelDir) throws Exception {
        com.fasterxml.jackson.databind.JsonNode g = new com.fasterxml.jackson.databind.ObjectMapper()
                .readTree(modelDir.resolve("generation_config.json").toFile());
        assertEquals("[263,257]", g.path("eos_token_id").toString(), g.toString());
        assertEquals(256, g.path("bos_token_id").asInt(), g.toString());
        assertEquals(258, g.path("pad_token_id").asInt(), g.toString());
        assertEquals(0.7, g.path("temperature").asDouble(), g.toString());
        assertTrue(g.path("do_sample").asBoolean(), g.toString());
        assertEquals("4.45.0", g.path("transformers_version").asText(), g.toString());
    }

    /**
     * {@code rows} addition questions in dir: data.jsonl (alpaca: instruction → sum) and pref.jsonl
     * (the sum chosen over "No.").
     */
    static void additionData(Path dir, int rows) throws Exception {
        StringBuilder sb = new StringBuilder();
        StringBuilder pref = new StringBuilder();
        for (int i = 0; i < rows; i++) {
            int a = 10 + i, b = 3 + (i % 7);
            sb.append(String.format("{\"instruction\": \"Add %d and %d.\", \"input\": \"\", \"output\": \"%d\"}%n", a, b, a + b));
            pref.append(String.format("{\"prompt\": \"Add %d and %d.\", \"chosen\": \"%d\", \"rejected\": \"No.\"}%n", a, b, a + b));
        }
        Files.writeString(dir.resolve("data.jsonl"), sb.toString());
        Files.writeString(dir.resolve("pref.jsonl"), pref.toString());
    }

    /** dir/NAME.yaml: a recipe for stage on base (from {@link #tinyBase}) over one data set, then {@code body}. */
    static Path recipe(Path dir, String name, String stage, String data, String type, String body) throws Exception {
        Path r = dir.resolve(name + ".yaml");
        Files.writeString(r, "stage: " + stage + "\nbase_model: base\noutput_dir: runs/" + name + "\nseed: 3\n"
                + "datasets:\n  - path: " + data + "\n    type: " + type + "\nchat_template: tokenizer\n" + body);
        return r;
    }

    /** Helpful (chosen) vs rude (rejected) replies: a preference a tiny model learns in a few steps. */
    static void preferenceData(Path prefJsonl, Path hhJsonl, Path sftJsonl) throws Exception {
        StringBuilder pref = new StringBuilder();
        StringBuilder hh = new StringBuilder();
        StringBuilder sft = new StringBuilder();
        for (int i = 0; i < 48; i++) {
            String t = TOPICS[i % TOPICS.length];
            String q = (i % 2 == 0 ? "Can you help me with " : "Tell me about ") + t + "?";
            String good = (i % 3 == 0 ? "Happy to help with " : "Of course! Here is a kind answer about ") + t + ".";
            String bad = (i % 3 == 0 ? "No. Go away." : "Whatever, ask someone else about ") + t + ".";
            pref.append(String.format("{\"prompt\": \"%s\", \"chosen\": \"%s\", \"rejected\": \"%s\"}%n", q, good, bad));
            hh.append(String.format("{\"chosen\": \"\\n\\nHuman: %s\\n\\nAssistant: %s\", \"rejected\": \"\\n\\nHuman: %s\\n\\nAssistant: %s\"}%n",
                    q, good, q, bad));
            sft.append(String.format("{\"messages\": [{\"role\": \"user\", \"content\": \"%s\"}, {\"role\": \"assistant\", \"content\": \"%s\"}]}%n",
                    q, good));
        }
        Files.writeString(prefJsonl, pref.toString());
        Files.writeString(hhJsonl, hh.toString());
        Files.writeString(sftJsonl, sft.toString());
    }

    /**
     * Two safetensors files hold the same tensors with the same values up to float rounding (a kernel
     * on a loaded machine may round a last bit differently); a resume that lost optimizer state, data
     * position or seeds differs by orders of magnitude more.
     */
    static void assertSameTensors(Path expected, Path actual) {
        try (ai.loro.core.io.SafeTensorsFile a = ai.loro.core.io.SafeTensorsFile.open(expected);
             ai.loro.core.io.SafeTensorsFile b = ai.loro.core.io.SafeTensorsFile.open(actual)) {
            org.junit.jupiter.api.Assertions.assertEquals(a.tensors().keySet(), b.tensors().keySet());
            for (String name : a.tensors().keySet()) {
                org.junit.jupiter.api.Assertions.assertArrayEquals(a.readFloats(name), b.readFloats(name), 1e-5f, name);
            }
        }
    }

    /** libtorch's intra-op thread count at start-up (loads the engine first). */
    static int engineThreads() {
        ai.djl.engine.Engine.getInstance();
        return ai.djl.pytorch.jni.JniUtils.getNumThreads();
    }
}
