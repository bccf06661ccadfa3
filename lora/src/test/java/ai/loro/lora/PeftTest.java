package ai.loro.lora;

import static org.junit.jupiter.api.Assertions.*;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.DataType;
import ai.loro.core.LoroException;
import ai.loro.core.io.SafeTensorsFile;
import ai.loro.core.io.SafeTensorsWriter;
import ai.loro.core.model.LlamaModel;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class PeftTest {
    @TempDir
    Path tmp;

    private static final ObjectMapper JSON = new ObjectMapper();

    static final String EXPECTED_CONFIG = """
            {
              "alpha_pattern": {},
              "base_model_name_or_path": "meta-llama/Llama-3.2-1B",
              "bias": "none",
              "fan_in_fan_out": false,
              "inference_mode": true,
              "init_lora_weights": true,
              "layers_pattern": null,
              "layers_to_transform": null,
              "loftq_config": {},
              "lora_alpha": 16,
              "lora_dropout": 0.05,
              "megatron_config": null,
              "megatron_core": "megatron.core",
              "modules_to_save": null,
              "peft_type": "LORA",
              "peft_version": "0.17.0",
              "r": 8,
              "rank_pattern": {},
              "revision": null,
              "target_modules": [
                "q_proj",
                "v_proj"
              ],
              "task_type": "CAUSAL_LM",
              "use_dora": false,
              "use_rslora": false
            }""";

    /** A PEFT 0.17-style file as the library writes it, with keys this reader does not know. */
    static final String HAND_CONFIG = """
            {
              "alpha_pattern": {},
              "auto_mapping": null,
              "base_model_name_or_path": "tiny",
              "bias": "none",
              "corda_config": null,
              "eva_config": null,
              "exclude_modules": null,
              "fan_in_fan_out": false,
              "inference_mode": true,
              "init_lora_weights": true,
              "layer_replication": null,
              "layers_pattern": null,
              "layers_to_transform": null,
              "loftq_config": {},
              "lora_alpha": 8,
              "lora_bias": false,
              "lora_dropout": 0.1,
              "megatron_config": null,
              "megatron_core": "megatron.core",
              "modules_to_save": null,
              "peft_type": "LORA",
              "qalora_group_size": 16,
              "r": 4,
              "rank_pattern": {},
              "revision": null,
              "target_modules": [
                "v_proj",
                "q_proj",
                "down_proj"
              ],
              "target_parameters": null,
              "task_type": "CAUSAL_LM",
              "trainable_token_indices": null,
              "use_dora": false,
              "use_qalora": false,
              "use_rslora": false
            }""";

    @Test
    void configJsonIsWhatPeftWrites() throws IOException {
        try (LlamaModel model = LoraFixtures.model(DataType.FLOAT32);
             LoraAdapter adapter = LoraAdapter.create(model, LoraConfig.of(8, 16, 0.05, "v_proj", "q_proj"), 1)) {
            Path dir = tmp.resolve("adapter");
            List<String> warnings = Peft.save(adapter, dir, "meta-llama/Llama-3.2-1B", "CAUSAL_LM");
            assertEquals(List.of(), warnings);
            assertEquals(EXPECTED_CONFIG, Files.readString(dir.resolve("adapter_config.json")));
            try (Stream<Path> s = Files.list(dir)) {
                assertEquals(List.of("adapter_config.json", "adapter_model.safetensors"),
                        s.map(p -> p.getFileName().toString()).sorted().toList());
            }
            try (Stream<Path> s = Files.list(tmp)) {
                assertEquals(List.of("adapter"), s.map(p -> p.getFileName().toString()).toList(), "temp folder left behind");
            }
            try (SafeTensorsFile f = SafeTensorsFile.open(dir.resolve("adapter_model.safetensors"))) {
                assertEquals(Map.of("format", "pt"), f.metadata());
                assertEquals(new java.util.TreeSet<>(adapter.parameters().keySet()), new java.util.TreeSet<>(f.tensors().keySet()));
                assertEquals("F32", f.info("base_model.model.model.layers.0.self_attn.q_proj.lora_A.weight").dtype());
                assertArrayEquals(new long[] {8, 16}, f.info("base_model.model.model.layers.0.self_attn.q_proj.lora_A.weight").shape());
                assertArrayEquals(new long[] {8, 8}, f.info("base_model.model.model.layers.1.self_attn.v_proj.lora_B.weight").shape());
            }
            // the key set matches the hand-copied PEFT file's core keys
            JsonNode written = JSON.readTree(EXPECTED_CONFIG);
            JsonNode peft = JSON.readTree(HAND_CONFIG);
            for (Iterator<String> it = written.fieldNames(); it.hasNext(); ) {
                String k = it.next();
                assertTrue(peft.has(k) || k.equals("peft_version"), k);
            }
        }
    }

    @Test
    void configJsonWritesPatternsRegexAndNonAscii() {
        Map<String, Integer> ranks = new LinkedHashMap<>();
        ranks.put("v_proj", 4);
        ranks.put("down_proj", 2);
        try (LlamaModel model = LoraFixtures.model(DataType.FLOAT32);
             LoraAdapter adapter = LoraAdapter.create(model,
                     LoraConfig.of(8, 16, 0, "all-linear").withPatterns(ranks, Map.of("q_proj", 2.5)).withRslora(true), 1)) {
            String json = Peft.configJson(adapter, "modèle", null);
            assertTrue(json.contains("\"alpha_pattern\": {\n    \"q_proj\": 2.5\n  },"), json);
            assertTrue(json.contains("\"rank_pattern\": {\n    \"down_proj\": 2,\n    \"v_proj\": 4\n  },"), json);
            assertTrue(json.contains("\"base_model_name_or_path\": \"mod\\u00e8le\""), json);
            assertTrue(json.contains("\"task_type\": null"));
            assertTrue(json.contains("\"use_rslora\": true"));
            assertTrue(json.contains("\"lora_dropout\": 0.0"));
            assertTrue(json.contains("\"target_modules\": [\n    \"down_proj\",\n    \"gate_proj\",\n    \"k_proj\",\n    \"o_proj\",\n"
                    + "    \"q_proj\",\n    \"up_proj\",\n    \"v_proj\"\n  ],"), json);
        }
    }

    /** Ollama's adapter converter refuses lora_alpha 16.0: a whole alpha is written as an integer, others as floats. */
    @Test
    void wholeAlphasAreWrittenAsIntegersAndBothSpellingsReadBack(@TempDir Path dir) throws Exception {
        Map<String, Double> alphas = new LinkedHashMap<>();
        alphas.put("q_proj", 2.0);
        alphas.put("v_proj", 2.5);
        try (LlamaModel model = LoraFixtures.model(DataType.FLOAT32);
             LoraAdapter whole = LoraAdapter.create(model, LoraConfig.of(8, 16.0, 0, "q_proj", "v_proj").withPatterns(Map.of(), alphas), 1);
             LoraAdapter half = LoraAdapter.create(model, LoraConfig.of(8, 12.5, 0, "q_proj"), 1)) {
            Peft.save(whole, dir.resolve("whole"), "base", "CAUSAL_LM");
            Peft.save(half, dir.resolve("half"), "base", "CAUSAL_LM");
        }
        String w = Files.readString(dir.resolve("whole").resolve(Peft.CONFIG_FILE));
        assertTrue(w.contains("\"lora_alpha\": 16,\n"), w);
        assertTrue(w.contains("\"alpha_pattern\": {\n    \"q_proj\": 2,\n    \"v_proj\": 2.5\n  },"), w);
        assertFalse(w.contains("16.0") || w.contains("2.0"), w);
        String h = Files.readString(dir.resolve("half").resolve(Peft.CONFIG_FILE));
        assertTrue(h.contains("\"lora_alpha\": 12.5,\n"), h);
        LoraConfig back = Peft.readConfig(dir.resolve("whole"));
        assertEquals(16.0, back.alpha());
        assertEquals(alphas, back.alphaPattern());
        assertEquals(12.5, Peft.readConfig(dir.resolve("half")).alpha());
        // PEFT's own files may spell them as floats: read the same
        Files.writeString(dir.resolve("whole").resolve(Peft.CONFIG_FILE), w.replace("\"lora_alpha\": 16,", "\"lora_alpha\": 16.0,")
                .replace("\"q_proj\": 2,", "\"q_proj\": 2.0,"));
        LoraConfig floats = Peft.readConfig(dir.resolve("whole"));
        assertEquals(16.0, floats.alpha());
        assertEquals(alphas, floats.alphaPattern());
    }

    @Test
    void warningsForVllmAndOllama() {
        assertEquals(List.of(), Peft.warnings(LoraConfig.of(16, 32, 0, "q_proj")));
        List<String> w32 = Peft.warnings(LoraConfig.of(32, 32, 0, "q_proj"));
        assertEquals(1, w32.size());
        assertTrue(w32.get(0).contains("max_lora_rank 16") && w32.get(0).contains("--max-lora-rank 32"), w32.toString());
        List<String> w12 = Peft.warnings(LoraConfig.of(12, 32, 0, "q_proj"));
        assertEquals(1, w12.size());
        assertTrue(w12.get(0).contains("rank 12 is not one of vLLM's max_lora_rank values") && w12.get(0).contains("16"), w12.toString());
        List<String> w600 = Peft.warnings(LoraConfig.of(600, 32, 0, "q_proj"));
        assertTrue(w600.get(0).contains("refuse"), w600.toString());
        List<String> rs = Peft.warnings(LoraConfig.of(16, 32, 0, "q_proj").withRslora(true));
        assertEquals(1, rs.size());
        assertTrue(rs.get(0).contains("Ollama/llama.cpp") && rs.get(0).contains("use_rslora") && rs.get(0).contains("128"), rs.toString());
        List<String> pat = Peft.warnings(LoraConfig.of(8, 16, 0, "q_proj").withPatterns(Map.of("q_proj", 4), Map.of("q_proj", 2.0)));
        assertEquals(3, pat.size(), pat.toString()); // rank 4 not in the set, patterns, alpha_pattern
        for (List<String> l : List.of(w32, w12, w600, rs, pat)) {
            l.forEach(s -> assertFalse(s.contains("\n")));
        }
    }

    @Test
    void exportImportRoundTripGivesIdenticalLogProbs() {
        Map<String, Integer> ranks = Map.of("layers.1.mlp.down_proj", 3);
        LoraConfig config = LoraConfig.of(4, 6, 0.1, "all-linear").withPatterns(ranks, Map.of("k_proj", 2.0)).withRslora(true);
        for (String dtype : List.of("F32", "F16", "BF16")) {
            try (LlamaModel model = LoraFixtures.model(DataType.FLOAT32);
                 LoraAdapter adapter = LoraAdapter.create(model, config, 1)) {
                LoraFixtures.randomize(adapter, 4, 0.2);
                if (!dtype.equals("F32")) { // round the values to the stored precision first
                    Path d0 = tmp.resolve("pre-" + dtype);
                    Peft.save(adapter, d0, "tiny", "CAUSAL_LM", dtype);
                    try (LoraAdapter rounded = Peft.load(d0, model)) {
                        adapter.parameters().forEach((k, v) -> LoraFixtures.set(v, rounded.parameters().get(k)
                                .toType(DataType.FLOAT64, false).toDoubleArray()));
                    }
                }
                adapter.attach(model);
                double[] want = LoraFixtures.logProbs(model);
                adapter.detach();
                Path dir = tmp.resolve("rt-" + dtype);
                Peft.save(adapter, dir, "tiny", "CAUSAL_LM", dtype);
                try (LoraAdapter back = Peft.load(dir, model)) {
                    assertEquals(config, back.config());
                    assertEquals(adapter.parameters().keySet(), back.parameters().keySet());
                    assertEquals(3, back.module("model.layers.1.mlp.down_proj").rank());
                    assertEquals(6 / Math.sqrt(3), back.module("model.layers.1.mlp.down_proj").scale(), 1e-15);
                    assertEquals(2 / Math.sqrt(4), back.module("model.layers.0.self_attn.k_proj").scale(), 1e-15);
                    back.attach(model);
                    assertArrayEquals(want, LoraFixtures.logProbs(model), dtype);
                }
                // saving again over the existing folder replaces its files
                Peft.save(adapter, dir, "tiny2", "CAUSAL_LM", dtype);
                try (LoraAdapter back = Peft.load(dir, model)) {
                    back.attach(model);
                    assertArrayEquals(want, LoraFixtures.logProbs(model), dtype);
                }
            }
        }
    }

    /** Writes a PEFT-style adapter dir by hand: config text, and tensors with an optional adapter-name infix. */
    private static void writeHand(Path dir, String config, LoraAdapter adapter, String infix) throws IOException {
        Files.createDirectories(dir);
        Files.writeString(dir.resolve("adapter_config.json"), config);
        Map<String, float[]> data = new LinkedHashMap<>();
        Map<String, long[]> shapes = new LinkedHashMap<>();
        for (Map.Entry<String, NDArray> e : adapter.parameters().entrySet()) {
            String key = e.getKey().replace(".weight", infix + ".weight");
            data.put(key, e.getValue().toType(DataType.FLOAT32, false).toFloatArray());
            shapes.put(key, e.getValue().getShape().getShape());
        }
        SafeTensorsWriter.writeFloats(dir.resolve("adapter_model.safetensors"), data, shapes, Map.of("format", "pt"), "F32");
    }

    @Test
    void handBuiltPeftDirectoriesLoadIncludingAdapterNameVariant() throws IOException {
        try (LlamaModel model = LoraFixtures.model(DataType.FLOAT32);
             LoraAdapter ref = LoraAdapter.create(model, LoraConfig.of(4, 8, 0.1, "q_proj", "v_proj", "down_proj"), 1)) {
            LoraFixtures.randomize(ref, 6, 0.2);
            ref.attach(model);
            double[] want = LoraFixtures.logProbs(model);
            ref.detach();
            for (String infix : List.of("", ".default", ".my_adapter")) {
                Path dir = tmp.resolve("hand" + infix);
                writeHand(dir, HAND_CONFIG, ref, infix);
                try (LoraAdapter a = Peft.load(dir, model)) {
                    assertEquals(List.of("down_proj", "q_proj", "v_proj"), a.config().targetModules());
                    assertEquals(0.1, a.config().dropout());
                    assertEquals(ref.parameters().keySet(), a.parameters().keySet());
                    a.attach(model);
                    assertArrayEquals(want, LoraFixtures.logProbs(model), infix);
                }
            }
            // target_modules as "all-linear", as a regex string, and as a PEFT suffix list
            for (String tm : List.of("\"all-linear\"", "\".*\\\\.(q_proj|v_proj|down_proj)\"",
                    "[\"self_attn.q_proj\", \"v_proj\", \"mlp.down_proj\", \"lm_head\"]")) {
                Path dir = tmp.resolve("tm" + Math.abs(tm.hashCode()));
                writeHand(dir, HAND_CONFIG.replaceFirst("(?s)\"target_modules\": \\[.*?\\]", "\"target_modules\": " + tm.replace("\\", "\\\\")), ref, "");
                try (LoraAdapter a = Peft.load(dir, model)) {
                    a.attach(model);
                    assertArrayEquals(want, LoraFixtures.logProbs(model), tm);
                }
            }
            // a regex that does not fullmatch (re.fullmatch semantics: "q_proj" alone matches no full name)
            Path dir = tmp.resolve("tm-partial");
            writeHand(dir, HAND_CONFIG.replaceFirst("(?s)\"target_modules\": \\[.*?\\]", "\"target_modules\": \"q_proj|v_proj|down_proj\""), ref, "");
            LoroException e = assertThrows(LoroException.class, () -> Peft.load(dir, model));
            assertTrue(e.getMessage().contains("target_modules"), e.getMessage());
            // minimal config (PEFT's documented minimum): defaults r=8 would not fit rank-4 tensors
            Path min = tmp.resolve("min");
            writeHand(min, "{\"target_modules\": [\"q_proj\", \"v_proj\", \"down_proj\"], \"peft_type\": \"LORA\", \"r\": 4}", ref, "");
            try (LoraAdapter a = Peft.load(min, model)) {
                assertEquals(1.0 * 8 / 4, a.module("model.layers.0.self_attn.q_proj").scale());
            }
        }
    }

    private void assertRefused(LlamaModel model, LoraAdapter ref, Consumer<ObjectNode> editConfig,
                               Consumer<Map<String, float[]>> editTensors, String file, String key) throws IOException {
        Path dir = Files.createTempDirectory(tmp, "bad");
        ObjectNode cfg = (ObjectNode) JSON.readTree(HAND_CONFIG);
        if (editConfig != null) {
            editConfig.accept(cfg);
        }
        Files.writeString(dir.resolve("adapter_config.json"), JSON.writerWithDefaultPrettyPrinter().writeValueAsString(cfg));
        Map<String, float[]> data = new LinkedHashMap<>();
        Map<String, long[]> shapes = new LinkedHashMap<>();
        for (Map.Entry<String, NDArray> e : ref.parameters().entrySet()) {
            data.put(e.getKey(), e.getValue().toFloatArray());
            shapes.put(e.getKey(), e.getValue().getShape().getShape());
        }
        if (editTensors != null) {
            editTensors.accept(data);
            for (String k : new ArrayList<>(data.keySet())) {
                if (!shapes.containsKey(k)) {
                    shapes.put(k, k.contains("lora_embedding_A") ? new long[] {4, 37} : new long[] {data.get(k).length / 4, 4});
                    if (k.contains("lora_A")) {
                        shapes.put(k, new long[] {4, data.get(k).length / 4});
                    }
                }
            }
        }
        SafeTensorsWriter.writeFloats(dir.resolve("adapter_model.safetensors"), data, shapes, Map.of("format", "pt"), "F32");
        LoroException e = assertThrows(LoroException.class, () -> Peft.load(dir, model).close());
        String msg = e.getMessage();
        assertTrue(msg.contains(file), msg);
        assertTrue(msg.contains(key), msg);
        assertFalse(msg.contains("\n"), msg);
    }

    @Test
    void refusalsAreOneLineErrorsNamingFileAndKey() throws IOException {
        String cfg = "adapter_config.json";
        String st = "adapter_model.safetensors";
        String qA = "base_model.model.model.layers.0.self_attn.q_proj.lora_A.weight";
        String qB = "base_model.model.model.layers.0.self_attn.q_proj.lora_B.weight";
        try (LlamaModel model = LoraFixtures.model(DataType.FLOAT32);
             LoraAdapter ref = LoraAdapter.create(model, LoraConfig.of(4, 8, 0.1, "q_proj", "v_proj", "down_proj"), 1)) {
            assertRefused(model, ref, c -> c.put("use_dora", true), null, cfg, "use_dora");
            assertRefused(model, ref, c -> c.put("bias", "all"), null, cfg, "bias");
            assertRefused(model, ref, c -> c.put("bias", "lora_only"), null, cfg, "bias");
            assertRefused(model, ref, c -> c.put("fan_in_fan_out", true), null, cfg, "fan_in_fan_out");
            assertRefused(model, ref, c -> c.putArray("modules_to_save").add("lm_head"), null, cfg, "modules_to_save");
            assertRefused(model, ref, c -> c.put("peft_type", "IA3"), null, cfg, "peft_type");
            assertRefused(model, ref, c -> c.put("lora_bias", true), null, cfg, "lora_bias");
            assertRefused(model, ref, c -> c.remove("target_modules"), null, cfg, "target_modules");
            assertRefused(model, ref, c -> c.put("r", "four"), null, cfg, "'r'");
            assertRefused(model, ref, c -> c.put("lora_dropout", 1.5), null, cfg, "dropout");
            assertRefused(model, ref, c -> c.put("target_modules", "q_proj("), null, cfg, "target_modules");
            assertRefused(model, ref, null,
                    t -> t.put("base_model.model.model.embed_tokens.lora_embedding_A", new float[4 * 37]), st, "lora_embedding_A");
            assertRefused(model, ref, null,
                    t -> t.put("base_model.model.model.layers.0.self_attn.q_proj.lora_magnitude_vector", new float[16]), st, "lora_magnitude_vector");
            assertRefused(model, ref, null, t -> {
                t.put("base_model.model.model.layers.5.self_attn.q_proj.lora_A.weight", t.get(qA));
                t.put("base_model.model.model.layers.5.self_attn.q_proj.lora_B.weight", t.get(qB));
            }, st, "layers.5.self_attn.q_proj");
            assertRefused(model, ref, null, t -> t.put("base_model.model.lm_head.weight", new float[37 * 16]), st, "lm_head.weight");
            assertRefused(model, ref, null, t -> t.put("base_model.model.model.layers.0.self_attn.q_proj.lora_B.bias", new float[16]), st, "lora_B.bias");
            assertRefused(model, ref, null, t -> t.remove(qB), st, qA);
            assertRefused(model, ref, null, t -> t.remove(qA), st, qB);
            assertRefused(model, ref, null, t -> {
                t.put("base_model.model.model.layers.0.self_attn.k_proj.lora_A.weight", new float[4 * 16]);
                t.put("base_model.model.model.layers.0.self_attn.k_proj.lora_B.weight", new float[8 * 4]);
            }, st, "k_proj");
            assertRefused(model, ref, c -> c.put("r", 2), null, st, "lora_A.weight' has shape [4, "); // tensors say 4
            assertRefused(model, ref, c -> c.putObject("rank_pattern").put("v_proj", 3), null, st, "v_proj.lora_A");
            assertRefused(model, ref, null, t -> t.put(qA.replace(".weight", ".default.weight"), t.get(qA)), st, "default");
            assertRefused(model, ref, c -> c.putArray("layers_to_transform").add(1), null, st, "layers_to_transform");
            LoroException missing = assertThrows(LoroException.class, () -> Peft.load(tmp.resolve("nowhere"), model));
            assertTrue(missing.getMessage().contains(cfg));
        }
    }
}
