package ai.loro.cli;

import static org.junit.jupiter.api.Assertions.*;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.loro.core.io.Checkpoint;
import ai.loro.core.model.LlamaModel;
import ai.loro.lora.Peft;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.File;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** `loro train` on an SFT recipe: the loss falls, frozen weights stay, exports agree, a killed run resumes exactly. */
class TrainSftTest {
    @TempDir static Path tmp;
    static Path base;
    static Path data;

    static final int THREADS = Fixtures.engineThreads();

    /** `deterministic: true` runs switch this JVM's libtorch to one thread; later tests get all of them back. */
    @org.junit.jupiter.api.AfterEach
    void restoreThreads() {
        ai.djl.pytorch.jni.JniUtils.setNumThreads(THREADS);
    }

    @BeforeAll
    static void setUp() throws Exception {
        base = Fixtures.tinyBase(tmp);
        Fixtures.shipGenerationConfig(base);
        data = tmp.resolve("data.jsonl");
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < 24; i++) {
            int a = 10 + i, b = 3 + (i % 7);
            sb.append(String.format("{\"instruction\": \"Add %d and %d.\", \"input\": \"\", \"output\": \"%d\"}%n", a, b, a + b));
        }
        Files.writeString(data, sb.toString());
    }

    static Path recipe(String name, String extra) throws Exception {
        Path r = tmp.resolve(name + ".yaml");
        Files.writeString(r, "stage: sft\nbase_model: base\noutput_dir: runs/" + name + "\nseed: 3\n"
                + "datasets:\n  - path: data.jsonl\n    type: alpaca\nchat_template: tokenizer\n"
                + "adapter:\n  type: lora\n  r: 4\n  alpha: 8\n  dropout: 0.1\n  target_modules: [q_proj, v_proj, down_proj]\n"
                + "sequence_len: 64\nmicro_batch_size: 4\ngradient_accumulation_steps: 2\nlearning_rate: 1.0e-2\n"
                + "warmup_steps: 2\nlogging_steps: 1\nprogress_bar: false\n" + extra);
        return r;
    }

    static List<JsonNode> metrics(Path out) throws Exception {
        ObjectMapper json = new ObjectMapper();
        List<JsonNode> rows = new ArrayList<>();
        for (String line : Files.readAllLines(out.resolve("metrics.jsonl"))) {
            rows.add(json.readTree(line));
        }
        return rows;
    }

    @Test
    void loraRunLowersLossAndExportsAgreeThreeWays() throws Exception {
        Path r = recipe("lora", "max_steps: 12\nsave_steps: 6\nexport:\n  merged: true\n");
        CliTest.Run run = CliTest.run("train", r.toString());
        assertEquals(0, run.code(), run.err());
        Path out = tmp.resolve("runs/lora");
        List<JsonNode> m = metrics(out).stream().filter(n -> n.get("split").asText().equals("train")).toList();
        double first = m.get(0).get("loss").asDouble();
        double last = m.get(m.size() - 1).get("loss").asDouble();
        assertTrue(last < first - 0.3, "loss " + first + " -> " + last);
        assertTrue(Files.exists(out.resolve("recipe.yaml")));
        assertTrue(Files.exists(out.resolve("adapter/adapter_config.json")));
        // frozen weights did not change by one bit: in the merged checkpoint every non-target tensor equals the base
        try (Checkpoint b = Checkpoint.open(base); Checkpoint merged = Checkpoint.open(out.resolve("merged"))) {
            int same = 0;
            int moved = 0;
            for (String name : b.names()) {
                boolean target = name.contains("q_proj") || name.contains("v_proj") || name.contains("down_proj");
                boolean equal = java.util.Arrays.equals(b.readFloats(name), merged.readFloats(name));
                if (target) {
                    assertFalse(equal, name + " should carry the trained delta");
                    moved++;
                } else {
                    assertTrue(equal, name + " changed");
                    same++;
                }
            }
            assertTrue(same > 0 && moved == 6);
        }
        // log-probs three ways: base + adapter (re-read), merged checkpoint
        long[] ids = {256, 262, 117, 115, 101, 114, 10, 65, 100, 100, 32, 49, 50};
        float[] viaAdapter;
        float[] viaMerged;
        try (LlamaModel model = LlamaModel.load(base, DataType.FLOAT32, Device.cpu())) {
            Peft.load(out.resolve("adapter"), model).attach(model);
            viaAdapter = logprobs(model, ids);
            model.setAdaptersEnabled(false);
            float[] plain = logprobs(model, ids);
            assertFalse(java.util.Arrays.equals(plain, viaAdapter));
        }
        Fixtures.assertGenerationConfigFromBase(out.resolve("merged"));
        try (LlamaModel merged = LlamaModel.load(out.resolve("merged"), DataType.FLOAT32, Device.cpu())) {
            viaMerged = logprobs(merged, ids);
        }
        assertArrayEquals(viaAdapter, viaMerged, 1e-4f);
    }

    @Test
    void fullFineTuningWritesAModelThatReloads() throws Exception {
        Path r = recipe("full", "max_steps: 8\nsave_steps: 4\n");
        Files.writeString(r, Files.readString(r).replace("  type: lora", "  type: none"));
        CliTest.Run run = CliTest.run("train", r.toString());
        assertEquals(0, run.code(), run.err());
        Path out = tmp.resolve("runs/full");
        List<JsonNode> m = metrics(out).stream().filter(n -> n.get("split").asText().equals("train")).toList();
        assertTrue(m.get(m.size() - 1).get("loss").asDouble() < m.get(0).get("loss").asDouble() - 0.3, m.toString());
        assertFalse(Files.exists(out.resolve("adapter")));
        // every tensor moved (embeddings and norms included), and the model reloads with the tokenizer beside it
        try (Checkpoint b = Checkpoint.open(base); Checkpoint tuned = Checkpoint.open(out.resolve("model"))) {
            for (String name : b.names()) {
                assertFalse(java.util.Arrays.equals(b.readFloats(name), tuned.readFloats(name)), name + " did not train");
            }
        }
        assertTrue(Files.exists(out.resolve("model/tokenizer.json")));
        Fixtures.assertGenerationConfigFromBase(out.resolve("model"));
        try (LlamaModel model = LlamaModel.load(out.resolve("model"), DataType.FLOAT32, Device.cpu())) {
            assertEquals(12, logprobs(model, new long[] {256, 262, 117, 115, 101, 114, 10, 65, 100, 100, 32, 49, 50}).length);
        }
    }

    static float[] logprobs(LlamaModel model, long[] ids) {
        try (NDManager m = model.manager().newSubManager()) {
            NDArray lp = model.tokenLogProbs(m.create(ids, new Shape(1, ids.length)), null);
            return lp.toFloatArray();
        }
    }

    @Test
    void killedRunResumesToTheSameAdapter() throws Exception {
        // deterministic: one libtorch thread, so the comparison is bit-exact even on a loaded machine
        String extra = "max_steps: 16\nsave_steps: 2\npacking: true\ndeterministic: true\n";
        Path straight = recipe("straight", extra);
        assertEquals(0, CliTest.run("train", straight.toString()).code());
        Path killed = recipe("killed", extra);
        Path out = tmp.resolve("runs/killed");
        Process p = new ProcessBuilder(javaBin(), "-cp", System.getProperty("java.class.path"), Main.class.getName(),
                "train", killed.toString()).redirectErrorStream(true).redirectOutput(tmp.resolve("killed.log").toFile()).start();
        // wait for the second checkpoint, then kill -9 mid-run
        long deadline = System.currentTimeMillis() + 120_000;
        while (!Files.exists(out.resolve("checkpoints/step-4")) && System.currentTimeMillis() < deadline && p.isAlive()) {
            Thread.sleep(20);
        }
        assertTrue(p.isAlive(), "the run ended before it could be killed: " + Files.readString(tmp.resolve("killed.log")));
        p.destroyForcibly();
        p.waitFor(30, TimeUnit.SECONDS);
        assertFalse(Files.exists(out.resolve("adapter")), "killed before the end");
        CliTest.Run resumed = CliTest.run("train", killed.toString());
        assertEquals(0, resumed.code(), resumed.err());
        Fixtures.assertSameTensors(tmp.resolve("runs/straight/adapter/adapter_model.safetensors"),
                out.resolve("adapter/adapter_model.safetensors"));
        // no partial files anywhere
        try (var files = Files.walk(out)) {
            assertTrue(files.noneMatch(f -> f.getFileName().toString().contains(".tmp")));
        }
    }

    @Test
    void badRecipeIsOneLineWithFileAndLine() throws Exception {
        Path r = recipe("bad", "lerning_rate: 1\n");
        CliTest.Run run = CliTest.run("train", r.toString());
        CliTest.assertOneLineError(run, "bad.yaml:");
        assertTrue(run.err().contains("lerning_rate") && run.err().contains("learning_rate"), run.err());
        Path missing = recipe("missing", "max_steps: 1\n");
        Files.writeString(missing, Files.readString(missing).replace("path: data.jsonl", "path: nope.jsonl"));
        CliTest.assertOneLineError(CliTest.run("train", missing.toString()), "nope.jsonl");
    }

    static String javaBin() {
        return Path.of(System.getProperty("java.home"), "bin", "java" + (File.separatorChar == '\\' ? ".exe" : "")).toString();
    }
}
