package ai.loro.cli;

import static ai.loro.cli.CliTest.assertOneLineError;
import static ai.loro.cli.CliTest.run;
import static org.junit.jupiter.api.Assertions.*;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code loro export}: what it writes, and one line + non-zero exit + no file for each bad input. */
class ExportCommandTest {
    @TempDir static Path tmp;
    static Path base;
    static Path adapter;

    @BeforeAll
    static void setUp() throws Exception {
        base = Fixtures.tinyBase(tmp);
        Path cfg = tmp.resolve("lora.yaml");
        Fixtures.additionData(tmp, 16);
        Files.writeString(cfg, "stage: sft\nbase_model: base\noutput_dir: run\ndatasets:\n  - path: data.jsonl\n    type: alpaca\n"
                + "adapter:\n  type: lora\n  r: 4\n  alpha: 8\n  target_modules: [q_proj, v_proj]\nsequence_len: 64\n"
                + "micro_batch_size: 4\nmax_steps: 2\nlearning_rate: 1.0e-3\nlogging_steps: 1\n");
        assertEquals(0, run("train", cfg.toString()).code());
        adapter = tmp.resolve("run/adapter");
    }

    static void assertNoFileLeft(Path out) throws Exception {
        assertFalse(Files.exists(out), out + " exists");
        try (Stream<Path> s = Files.list(out.toAbsolutePath().getParent())) {
            assertTrue(s.noneMatch(p -> p.getFileName().toString().startsWith("." + out.getFileName() + ".tmp-")),
                    "temporary file left beside " + out);
        }
    }

    @Test
    void writesModelLoraAndOllamaFolder() throws Exception {
        CliTest.Run r = run("export", "gguf", "--model", base.toString(), "--adapter", adapter.toString(),
                "--out", tmp.resolve("merged.gguf").toString(), "--dtype", "f16");
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().contains("wrote") && r.out().contains("f16"), r.out());
        r = run("export", "gguf-lora", "--model", base.toString(), "--adapter", adapter.toString(), "--out", tmp.resolve("a.gguf").toString());
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().contains("4 modules") && r.out().contains("alpha 8.0"), r.out());
        r = run("export", "ollama", "--model", base.toString(), "--adapter", adapter.toString(), "--out", tmp.resolve("ol").toString());
        assertEquals(0, r.code(), r.err());
        assertTrue(Files.readString(tmp.resolve("ol/Modelfile")).contains("PARAMETER stop \"<|im_end|>\""));
        assertTrue(r.out().contains("ollama create NAME -f"), r.out());
    }

    @Test
    void missingTokenizer() throws Exception {
        Path bare = tmp.resolve("bare");
        Files.createDirectories(bare);
        Files.copy(base.resolve("config.json"), bare.resolve("config.json"));
        Files.copy(base.resolve("model.safetensors"), bare.resolve("model.safetensors"));
        Path out = tmp.resolve("bare.gguf");
        assertOneLineError(run("export", "gguf", "--model", bare.toString(), "--out", out.toString()),
                "tokenizer.json: not found; a GGUF model carries its tokenizer");
        assertNoFileLeft(out);
    }

    @Test
    void unknownPreTokenizer() throws Exception {
        Path odd = tmp.resolve("odd");
        Files.createDirectories(odd);
        for (String f : new String[] {"config.json", "model.safetensors", "tokenizer_config.json"}) {
            Files.copy(base.resolve(f), odd.resolve(f));
        }
        String tok = Files.readString(base.resolve("tokenizer.json"));
        var root = (com.fasterxml.jackson.databind.node.ObjectNode) new com.fasterxml.jackson.databind.ObjectMapper().readTree(tok);
        root.set("pre_tokenizer", new com.fasterxml.jackson.databind.ObjectMapper().readTree(
                "{\"type\": \"Sequence\", \"pretokenizers\": [{\"type\": \"Digits\", \"individual_digits\": true},"
                        + " {\"type\": \"ByteLevel\", \"add_prefix_space\": false, \"use_regex\": true}]}"));
        Files.writeString(odd.resolve("tokenizer.json"), root.toString());
        Path out = tmp.resolve("odd.gguf");
        assertOneLineError(run("export", "gguf", "--model", odd.toString(), "--out", out.toString()),
                "not a pre-tokenizer family llama.cpp names");
        assertNoFileLeft(out);
    }

    @Test
    void adapterOfAnotherBase() throws Exception {
        Path cfg = tmp.resolve("wide.json");
        Files.writeString(cfg, Files.readString(tmp.resolve("shape.json")).replace("\"hidden_size\":32", "\"hidden_size\":64"));
        Path wide = tmp.resolve("wide");
        assertEquals(0, run("init-model", "--config", cfg.toString(), "--out", wide.toString(), "--byte-tokenizer", "chatml").code());
        for (String cmd : new String[] {"gguf", "gguf-lora"}) {
            Path out = tmp.resolve("wrong-" + cmd + ".gguf");
            assertOneLineError(run("export", cmd, "--model", wide.toString(), "--adapter", adapter.toString(), "--out", out.toString()),
                    "shape");
            assertNoFileLeft(out);
        }
    }

    @Test
    void whatLlamaCppCannotExpress() throws Exception {
        Path patterned = tmp.resolve("patterned");
        Files.createDirectories(patterned);
        Files.copy(adapter.resolve("adapter_model.safetensors"), patterned.resolve("adapter_model.safetensors"));
        Files.writeString(patterned.resolve("adapter_config.json"), Files.readString(adapter.resolve("adapter_config.json"))
                .replace("\"alpha_pattern\": {}", "\"alpha_pattern\": {\"q_proj\": 32}"));
        Path out = tmp.resolve("patterned.gguf");
        assertOneLineError(run("export", "gguf-lora", "--model", base.toString(), "--adapter", patterned.toString(),
                "--out", out.toString()), "alpha_pattern");
        assertNoFileLeft(out);
        // merging is exact for any adapter PEFT can express
        assertEquals(0, run("export", "gguf", "--model", base.toString(), "--adapter", patterned.toString(),
                "--out", tmp.resolve("patterned-merged.gguf").toString()).code());

        Path rm = tmp.resolve("rm");
        Path rmCfg = tmp.resolve("rm.json");
        Files.writeString(rmCfg, Files.readString(tmp.resolve("shape.json"))
                .replace("LlamaForCausalLM", "LlamaForSequenceClassification").replace("{", "{\"num_labels\":1,"));
        assertEquals(0, run("init-model", "--config", rmCfg.toString(), "--out", rm.toString(), "--byte-tokenizer", "chatml").code());
        assertOneLineError(run("export", "gguf", "--model", rm.toString(), "--out", tmp.resolve("rm.gguf").toString()),
                "reward model / classifier");
        assertOneLineError(run("export", "gguf", "--model", base.toString(), "--out", tmp.resolve("x.gguf").toString(), "--dtype", "q4_k"),
                "--dtype must be f32, f16 or q8_0");
        assertOneLineError(run("export", "gguf-lora", "--model", base.toString(), "--adapter", adapter.toString(),
                "--out", tmp.resolve("x.gguf").toString(), "--dtype", "q8_0"), "--dtype must be f32 or f16");
    }
}
