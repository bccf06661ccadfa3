package ai.loro.cli;

import static org.junit.jupiter.api.Assertions.*;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The CLI end to end, in process: outputs, and one-line errors with non-zero exits for bad input. */
class CliTest {
    record Run(int code, String out, String err) {}

    static Run run(String... args) {
        StringWriter err = new StringWriter();
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        PrintStream old = System.out;
        System.setOut(new PrintStream(out, true, StandardCharsets.UTF_8));
        try {
            int code = Main.run(args, new PrintWriter(out, true, StandardCharsets.UTF_8), new PrintWriter(err, true));
            return new Run(code, out.toString(StandardCharsets.UTF_8), err.toString());
        } finally {
            System.setOut(old);
        }
    }

    @TempDir static Path tmp;
    static Path model;

    @BeforeAll
    static void tinyModel() throws Exception {
        model = Fixtures.tinyBase(tmp);
    }

    /** Asserts a failure with exactly one line on stderr containing {@code fragment}. */
    static void assertOneLineError(Run r, String fragment) {
        assertNotEquals(0, r.code());
        String err = r.err().strip();
        assertFalse(err.contains("\n"), "more than one line: " + err);
        assertTrue(err.startsWith("error: ") && err.contains(fragment), err);
    }

    @Test
    void logprobsWritesNMinusOneValuesPerLine() throws Exception {
        Path in = tmp.resolve("in.jsonl");
        Files.writeString(in, "{\"input_ids\": [1, 2, 3, 4, 5]}\n\n{\"text\": \"hi there\"}\n{\"input_ids\": [7]}\n");
        Path out = tmp.resolve("out.jsonl");
        Run r = run("logprobs", "--model", model.toString(), "--input", in.toString(), "--output", out.toString(), "--batch-size", "2");
        assertEquals(0, r.code(), r.err());
        List<String> lines = Files.readAllLines(out).stream().filter(s -> !s.isBlank()).toList();
        assertEquals(3, lines.size());
        ObjectMapper json = new ObjectMapper();
        JsonNode first = json.readTree(lines.get(0));
        assertEquals(4, first.get("logprobs").size());
        JsonNode second = json.readTree(lines.get(1));
        assertEquals(second.get("input_ids").size() - 1, second.get("logprobs").size());
        assertEquals(256, second.get("input_ids").get(0).asInt()); // BOS from the tokenizer
        assertEquals(0, json.readTree(lines.get(2)).get("logprobs").size());
        // each value is log_softmax(logits[t])[ids[t+1]], recomputed here in double from the model's raw logits
        long[] ids = {1, 2, 3, 4, 5};
        float[] logits;
        int vocab;
        try (ai.loro.core.model.LlamaModel m = ai.loro.core.model.LlamaModel.load(model, ai.djl.ndarray.types.DataType.FLOAT32,
                ai.djl.Device.cpu()); ai.djl.ndarray.NDManager nd = m.manager().newSubManager()) {
            vocab = m.config().vocabSize();
            logits = m.forward(nd.create(ids, new ai.djl.ndarray.types.Shape(1, ids.length)), null, null).toFloatArray();
        }
        for (int t = 0; t < ids.length - 1; t++) {
            double max = Double.NEGATIVE_INFINITY;
            for (int v = 0; v < vocab; v++) {
                max = Math.max(max, logits[t * vocab + v]);
            }
            double sum = 0;
            for (int v = 0; v < vocab; v++) {
                sum += Math.exp(logits[t * vocab + v] - max);
            }
            double expected = logits[t * vocab + (int) ids[t + 1]] - max - Math.log(sum);
            assertEquals(expected, first.get("logprobs").get(t).asDouble(), 1e-5, "position " + t);
        }
        // batching does not change the numbers
        Path one = tmp.resolve("one.jsonl");
        Files.writeString(one, "{\"input_ids\": [1, 2, 3, 4, 5]}\n");
        Path oneOut = tmp.resolve("one-out.jsonl");
        assertEquals(0, run("logprobs", "--model", model.toString(), "--input", one.toString(), "--output", oneOut.toString()).code());
        JsonNode alone = json.readTree(Files.readAllLines(oneOut).get(0));
        for (int i = 0; i < 4; i++) {
            assertEquals(alone.get("logprobs").get(i).asDouble(), first.get("logprobs").get(i).asDouble(), 1e-5);
        }
    }

    @Test
    void generateFromPromptAndJsonl() throws Exception {
        Run r = run("generate", "--model", model.toString(), "--prompt", "Hello", "--chat", "--max-new-tokens", "5", "--seed", "1",
                "--temperature", "0.9", "--top-k", "20");
        assertEquals(0, r.code(), r.err());
        Path in = tmp.resolve("prompts.jsonl");
        Files.writeString(in, "{\"prompt\": \"a\"}\n{\"messages\": [{\"role\": \"user\", \"content\": \"b\"}]}\n{\"input_ids\": [256, 10]}\n");
        Run j = run("generate", "--model", model.toString(), "--input", in.toString(), "--max-new-tokens", "4");
        assertEquals(0, j.code(), j.err());
        List<String> lines = j.out().lines().filter(s -> s.startsWith("{")).toList();
        assertEquals(3, lines.size(), j.out());
        JsonNode o = new ObjectMapper().readTree(lines.get(0));
        assertTrue(o.has("completion") && o.has("tokens") && o.has("finish_reason"));
    }

    @Test
    void helpOnEveryCommand() {
        for (String cmd : List.of("quickstart", "logprobs", "generate", "init-model", "bench", "report")) {
            Run r = run(cmd, "--help");
            assertEquals(0, r.code(), cmd);
            assertTrue(r.out().contains("Usage: loro " + cmd), r.out());
        }
        Run top = run("--help");
        assertEquals(0, top.code());
        // loro spark is dispatched by the launcher (on Spark's class path) but listed here like the others
        assertTrue(top.out().lines().anyMatch(l -> l.strip().startsWith("spark ") && l.contains("Batch jobs on Apache Spark")), top.out());
        assertOneLineError(run("spark", "generate", "--help"), "loro spark runs on Spark's class path, which the launcher sets up: run"
                + " ./loro spark generate --help");
    }

    @Test
    void badInputsGiveOneLineAndNonZeroExit() throws Exception {
        Path in = tmp.resolve("ok.jsonl");
        Files.writeString(in, "{\"input_ids\": [1, 2]}\n");
        // malformed JSONL, with file and line
        Path bad = tmp.resolve("bad.jsonl");
        Files.writeString(bad, "{\"input_ids\": [1, 2]}\n{\"input_ids\": [1,\n");
        assertOneLineError(run("logprobs", "--model", model.toString(), "--input", bad.toString()), "bad.jsonl:2: not valid JSON");
        // token ids outside the vocabulary
        Path oov = tmp.resolve("oov.jsonl");
        Files.writeString(oov, "{\"input_ids\": [1, 264]}\n");
        assertOneLineError(run("logprobs", "--model", model.toString(), "--input", oov.toString()), "token id 264");
        Path neg = tmp.resolve("neg.jsonl");
        Files.writeString(neg, "{\"input_ids\": [-1]}\n");
        assertOneLineError(run("logprobs", "--model", model.toString(), "--input", neg.toString()), "outside the vocabulary");
        Path strIds = tmp.resolve("str.jsonl");
        Files.writeString(strIds, "{\"input_ids\": [\"a\"]}\n");
        assertOneLineError(run("logprobs", "--model", model.toString(), "--input", strIds.toString()), "not an integer token id");
        // missing config.json
        Path empty = Files.createDirectories(tmp.resolve("empty"));
        assertOneLineError(run("logprobs", "--model", empty.toString(), "--input", in.toString()), "config.json not found");
        // malformed config.json
        Path broken = copyModel("broken");
        Files.writeString(broken.resolve("config.json"), "{\"hidden_size\": ");
        assertOneLineError(run("logprobs", "--model", broken.toString(), "--input", in.toString()), "not valid JSON");
        // heads that do not divide the hidden size
        Path heads = copyModel("heads");
        String cfg = Files.readString(heads.resolve("config.json")).replaceAll("\"head_dim\" : \\d+,", "")
                .replace("\"num_attention_heads\" : 4", "\"num_attention_heads\" : 3");
        Files.writeString(heads.resolve("config.json"), cfg);
        assertOneLineError(run("logprobs", "--model", heads.toString(), "--input", in.toString()), "not divisible by num_attention_heads");
        // truncated safetensors
        Path cut = copyModel("cut");
        byte[] bytes = Files.readAllBytes(cut.resolve("model.safetensors"));
        Files.write(cut.resolve("model.safetensors"), java.util.Arrays.copyOf(bytes, bytes.length / 2));
        assertOneLineError(run("logprobs", "--model", cut.toString(), "--input", in.toString()), "model.safetensors");
        // oversized header length
        Path huge = copyModel("huge");
        byte[] h = Files.readAllBytes(huge.resolve("model.safetensors"));
        ByteBuffer.wrap(h).order(ByteOrder.LITTLE_ENDIAN).putLong(0, 1L << 40);
        Files.write(huge.resolve("model.safetensors"), h);
        assertOneLineError(run("logprobs", "--model", huge.toString(), "--input", in.toString()), "model.safetensors");
        // offsets out of range: rewrite the first tensor's end offset past the buffer
        Path offs = copyModel("offsets");
        byte[] o = Files.readAllBytes(offs.resolve("model.safetensors"));
        long n = ByteBuffer.wrap(o).order(ByteOrder.LITTLE_ENDIAN).getLong(0);
        String header = new String(o, 8, (int) n, StandardCharsets.UTF_8);
        String changed = header.replaceFirst("\"data_offsets\":\\[(\\d+),(\\d+)\\]", "\"data_offsets\":[$1,99999999]");
        assertNotEquals(header, changed, header.substring(0, Math.min(200, header.length())));
        String padded = String.format("%-" + n + "s", changed).substring(0, (int) n);
        System.arraycopy(padded.getBytes(StandardCharsets.UTF_8), 0, o, 8, (int) n);
        Files.write(offs.resolve("model.safetensors"), o);
        assertOneLineError(run("logprobs", "--model", offs.toString(), "--input", in.toString()), "model.safetensors");
        // bad option values and unknown options
        assertOneLineError(run("generate", "--model", model.toString(), "--prompt", "x", "--temperature", "-1"), "temperature");
        assertOneLineError(run("generate", "--model", model.toString(), "--prompt", "x", "--bogus"), "--bogus");
        assertOneLineError(run("init-model", "--config", tmp.resolve("nope.json").toString(), "--out", tmp.resolve("x").toString()),
                "config.json not found");
    }

    @Test
    void initModelWritesALoadableCheckpointThatRefusesToOverwrite() throws Exception {
        Path cfg = tmp.resolve("cfg.json");
        Files.writeString(cfg, "{\"architectures\":[\"MistralForCausalLM\"],\"vocab_size\":300,\"hidden_size\":32,"
                + "\"intermediate_size\":64,\"num_hidden_layers\":2,\"num_attention_heads\":4,\"num_key_value_heads\":1,"
                + "\"sliding_window\":4096,\"eos_token_id\":2,\"bos_token_id\":1}");
        Path out = tmp.resolve("mistral");
        Run r = run("init-model", "--config", cfg.toString(), "--out", out.toString(), "--dtype", "BF16",
                "--tokenizer", model.toString());
        assertEquals(0, r.code(), r.err());
        assertTrue(Files.exists(out.resolve("tokenizer.json")));
        Path in = tmp.resolve("ids.jsonl");
        Files.writeString(in, "{\"input_ids\": [1, 5, 299]}\n");
        assertEquals(0, run("logprobs", "--model", out.toString(), "--input", in.toString()).code());
        assertOneLineError(run("init-model", "--config", cfg.toString(), "--out", out.toString()), "already exists");
        // a tokenizer larger than the vocabulary is refused
        Files.writeString(cfg, Files.readString(cfg).replace("\"vocab_size\":300", "\"vocab_size\":100"));
        assertOneLineError(run("init-model", "--config", cfg.toString(), "--out", tmp.resolve("small").toString(),
                "--tokenizer", model.toString()), "vocab_size 100");
    }

    private static Path copyModel(String name) throws Exception {
        Path dst = Files.createDirectories(tmp.resolve(name));
        try (var s = Files.list(model)) {
            for (Path p : s.toList()) {
                Files.copy(p, dst.resolve(p.getFileName()));
            }
        }
        return dst;
    }
}
