package ai.loro.spark;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.loro.spark.kernel.ModelCache;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.stream.Stream;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Each job in local[2] against its in-process command (ai.loro.cli.Main run in this JVM): log-probs and scores to
 * 1e-5, greedy text exactly, with 1 and 3 partitions; sampling reproducible; one model load per JVM; refusals.
 * One Spark session for the class.
 */
class SparkJobsTest {
    @TempDir static Path tmp;
    static Path base;
    static Path rm;
    static SparkSession spark;
    static final ObjectMapper JSON = new ObjectMapper();

    record Run(int code, String out, String err) {}

    @BeforeAll
    static void setUp() throws Exception {
        spark = Sessions.embedded("local[2]", "SparkJobsTest");
        Path cfg = tmp.resolve("shape.json");
        Files.writeString(cfg, "{\"architectures\":[\"LlamaForCausalLM\"],\"vocab_size\":264,\"hidden_size\":32,"
                + "\"intermediate_size\":64,\"num_hidden_layers\":2,\"num_attention_heads\":4,\"num_key_value_heads\":2,"
                + "\"bos_token_id\":256,\"eos_token_id\":263,\"pad_token_id\":258,\"tie_word_embeddings\":true,"
                + "\"initializer_range\":0.3}");
        base = tmp.resolve("base");
        assertEquals(0, cli("init-model", "--config", cfg.toString(), "--out", base.toString(), "--byte-tokenizer", "chatml").code());
        Path rmCfg = tmp.resolve("rm.json");
        Files.writeString(rmCfg, Files.readString(cfg).replace("LlamaForCausalLM", "LlamaForSequenceClassification")
                .replace("\"initializer_range\":0.3", "\"initializer_range\":0.3,\"num_labels\":1"));
        rm = tmp.resolve("rm");
        assertEquals(0, cli("init-model", "--config", rmCfg.toString(), "--out", rm.toString(), "--byte-tokenizer", "chatml",
                "--seed", "7").code());
    }

    @AfterAll
    static void tearDown() {
        spark.stop();
    }

    static Run cli(String... args) {
        return capture(args, true);
    }

    static Run job(String... args) {
        return capture(args, false);
    }

    private static Run capture(String[] args, boolean inProcessCli) {
        StringWriter err = new StringWriter();
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        PrintStream old = System.out;
        System.setOut(new PrintStream(out, true, StandardCharsets.UTF_8));
        try {
            PrintWriter o = new PrintWriter(out, true, StandardCharsets.UTF_8);
            PrintWriter e = new PrintWriter(err, true);
            int code = inProcessCli ? ai.loro.cli.Main.run(args, o, e) : SparkMain.run(args, o, e);
            return new Run(code, out.toString(StandardCharsets.UTF_8), err.toString());
        } finally {
            System.setOut(old);
        }
    }

    static Path write(String name, String... lines) throws Exception {
        Path p = tmp.resolve(name);
        Files.writeString(p, String.join("\n", lines) + "\n");
        return p;
    }

    static List<JsonNode> jsonLines(Path file) throws Exception {
        List<JsonNode> out = new ArrayList<>();
        for (String l : Files.readAllLines(file)) {
            if (!l.isBlank()) {
                out.add(JSON.readTree(l));
            }
        }
        return out;
    }

    /** A job's output rows sorted by (row, sample), from its part files (jsonl) or through Spark (parquet). */
    static List<JsonNode> rows(Path dir) throws Exception {
        List<JsonNode> out = new ArrayList<>();
        boolean parquet;
        try (Stream<Path> files = Files.list(dir)) {
            parquet = files.anyMatch(f -> f.getFileName().toString().endsWith(".parquet"));
        }
        if (parquet) {
            for (String s : spark.read().parquet(dir.toString()).toJSON().collectAsList()) {
                out.add(JSON.readTree(s));
            }
        } else {
            try (Stream<Path> files = Files.list(dir)) {
                for (Path f : files.filter(f -> f.getFileName().toString().startsWith("part-")).sorted().toList()) {
                    out.addAll(jsonLines(f));
                }
            }
        }
        out.sort(Comparator.<JsonNode>comparingLong(j -> j.get("row").asLong()).thenComparingLong(j -> j.path("sample").asLong()));
        return out;
    }

    static List<JsonNode> runJob(String... args) throws Exception {
        Run r = job(args);
        assertEquals(0, r.code(), r.err());
        String out = args[java.util.Arrays.asList(args).indexOf("--output") + 1];
        return rows(Path.of(out));
    }

    static String out(String name) {
        return tmp.resolve(name).toString();
    }

    static void assertClose(JsonNode expected, JsonNode actual, double tol, String what) {
        assertEquals(expected.size(), actual.size(), what);
        for (int i = 0; i < expected.size(); i++) {
            assertEquals(expected.get(i).asDouble(), actual.get(i).asDouble(), tol, what + "[" + i + "]");
        }
    }

    @Test
    void logprobsEqualLoroLogprobsWithOneOrThreePartitions() throws Exception {
        Path in = write("lp.jsonl", "{\"text\": \"hello there\", \"id\": \"a\"}", "{\"input_ids\": [256, 5, 6, 7, 8, 9]}",
                "{\"text\": \"a longer line of text to score\"}", "{\"text\": \"x\"}", "{\"input_ids\": [256, 100, 101]}");
        Path expectedFile = tmp.resolve("lp-expected.jsonl");
        assertEquals(0, cli("logprobs", "--model", base.toString(), "--input", in.toString(), "--output", expectedFile.toString(),
                "--batch-size", "2").code());
        List<JsonNode> expected = jsonLines(expectedFile);
        for (String[] v : new String[][] {{"1", "jsonl"}, {"3", "jsonl"}, {"3", "parquet"}}) {
            List<JsonNode> got = runJob("logprobs", "--model", base.toString(), "--input", in.toString(), "--output",
                    out("lp-" + v[0] + v[1]), "--partitions", v[0], "--format", v[1], "--batch-size", "2");
            assertEquals(expected.size(), got.size());
            for (int i = 0; i < expected.size(); i++) {
                assertEquals(i, got.get(i).get("row").asInt());
                assertEquals(expected.get(i).get("input_ids"), got.get(i).get("input_ids"), "row " + i);
                assertClose(expected.get(i).get("logprobs"), got.get(i).get("logprobs"), 1e-5, v[1] + " p" + v[0] + " row " + i);
            }
            assertEquals("a", got.get(0).get("id").asText()); // input fields carried
            assertEquals("hello there", got.get(0).get("text").asText());
        }
    }

    @Test
    void greedyGenerateEqualsLoroGenerate() throws Exception {
        Path in = write("prompts.jsonl", "{\"prompt\": \"one\"}", "{\"prompt\": \"two words\"}", "{\"prompt\": \"three small words\"}",
                "{\"prompt\": \"4\"}", "{\"prompt\": \"five is a longer prompt\"}");
        Path expectedFile = tmp.resolve("gen-expected.jsonl");
        assertEquals(0, cli("generate", "--model", base.toString(), "--input", in.toString(), "--output", expectedFile.toString(),
                "--max-new-tokens", "12", "--temperature", "0", "--batch-size", "2").code());
        List<JsonNode> expected = jsonLines(expectedFile);
        for (String p : new String[] {"1", "3"}) {
            List<JsonNode> got = runJob("generate", "--model", base.toString(), "--input", in.toString(), "--output", out("gen-" + p),
                    "--partitions", p, "--format", "jsonl", "--max-new-tokens", "12", "--batch-size", "2");
            assertEquals(expected.size(), got.size());
            for (int i = 0; i < expected.size(); i++) {
                JsonNode e = expected.get(i);
                JsonNode g = got.get(i);
                assertEquals(e.get("prompt"), g.get("prompt"));
                assertEquals(e.get("completion"), g.get("completion"), "row " + i);
                assertEquals(e.get("tokens"), g.get("tokens"), "row " + i);
                assertEquals(e.get("finish_reason"), g.get("finish_reason"), "row " + i);
                assertEquals(0, g.get("sample").asInt());
            }
        }
    }

    @Test
    void sampledGenerateIsTheSameAcrossRunsAndPartitionings() throws Exception {
        Path in = write("sample-prompts.jsonl", "{\"prompt\": \"alpha\"}", "{\"prompt\": \"beta gamma\"}", "{\"prompt\": \"delta\"}",
                "{\"prompt\": \"epsilon zeta eta\"}");
        List<List<JsonNode>> runs = new ArrayList<>();
        for (String[] v : new String[][] {{"1", "a"}, {"3", "b"}, {"3", "c"}}) {
            runs.add(runJob("generate", "--model", base.toString(), "--input", in.toString(), "--output", out("sample-" + v[1]),
                    "--partitions", v[0], "--format", "jsonl", "--num-samples", "3", "--temperature", "1.0", "--top-p", "0.95",
                    "--max-new-tokens", "10", "--seed", "11", "--batch-size", "4", "--reward-model", rm.toString()));
        }
        assertEquals(12, runs.get(0).size());
        assertEquals(runs.get(0), runs.get(1));
        assertEquals(runs.get(0), runs.get(2));
        // the samples of one prompt are different draws, each with its reward
        List<JsonNode> first = runs.get(0).subList(0, 3);
        assertTrue(first.stream().map(j -> j.get("tokens")).distinct().count() > 1, first.toString());
        // each reward is loro score's for the conversation [user: prompt, assistant: completion]
        StringBuilder conversations = new StringBuilder();
        for (JsonNode j : runs.get(0)) {
            com.fasterxml.jackson.databind.node.ObjectNode o = JSON.createObjectNode();
            o.putArray("messages").add(JSON.createObjectNode().put("role", "user").put("content", j.get("prompt").asText()))
                    .add(JSON.createObjectNode().put("role", "assistant").put("content", j.get("completion").asText()));
            conversations.append(JSON.writeValueAsString(o)).append('\n');
        }
        Path convFile = write("sample-conversations.jsonl", conversations.toString().strip());
        Path scored = tmp.resolve("sample-scored.jsonl");
        assertEquals(0, cli("score", "--model", rm.toString(), "--input", convFile.toString(), "--output", scored.toString()).code());
        List<JsonNode> rewards = jsonLines(scored);
        for (int i = 0; i < rewards.size(); i++) {
            assertEquals(rewards.get(i).get("reward").asDouble(), runs.get(0).get(i).get("reward").asDouble(), 1e-5, "sample " + i);
        }
        // another seed, other samples
        List<JsonNode> other = runJob("generate", "--model", base.toString(), "--input", in.toString(), "--output", out("sample-d"),
                "--format", "jsonl", "--num-samples", "3", "--temperature", "1.0", "--top-p", "0.95", "--max-new-tokens", "10",
                "--seed", "12", "--batch-size", "4");
        assertNotEquals(runs.get(0).stream().map(j -> j.get("tokens")).toList(), other.stream().map(j -> j.get("tokens")).toList());
    }

    @Test
    void scoreEqualsLoroScore() throws Exception {
        Path in = write("score.jsonl", "{\"text\": \"a fine answer\"}", "{\"prompt\": \"2+2?\", \"chosen\": \"4\", \"rejected\": \"5\"}",
                "{\"messages\": [{\"role\": \"user\", \"content\": \"hi\"}, {\"role\": \"assistant\", \"content\": \"hello\"}]}",
                "{\"text\": \"another text, longer than the first one\"}");
        Path expectedFile = tmp.resolve("score-expected.jsonl");
        assertEquals(0, cli("score", "--model", rm.toString(), "--input", in.toString(), "--output", expectedFile.toString()).code());
        List<JsonNode> expected = jsonLines(expectedFile);
        for (String[] v : new String[][] {{"1", "jsonl"}, {"3", "parquet"}}) {
            List<JsonNode> got = runJob("score", "--model", rm.toString(), "--input", in.toString(), "--output", out("score-" + v[0]),
                    "--partitions", v[0], "--format", v[1], "--batch-size", "2");
            assertEquals(expected.size(), got.size());
            for (int i = 0; i < expected.size(); i++) {
                JsonNode e = expected.get(i);
                JsonNode g = got.get(i);
                for (String f : new String[] {"reward", "reward_chosen", "reward_rejected"}) {
                    if (e.has(f)) {
                        assertEquals(e.get(f).asDouble(), g.get(f).asDouble(), 1e-5, f + " row " + i);
                    }
                }
                if (e.has("chosen_preferred")) {
                    assertEquals(e.get("chosen_preferred"), g.get("chosen_preferred"));
                }
            }
        }
    }

    @Test
    void modelLoadedOncePerJvmAcrossPartitionsAndJobs() throws Exception {
        Path copy = tmp.resolve("base-copy");
        Files.createDirectories(copy);
        try (Stream<Path> files = Files.list(base)) {
            for (Path f : files.toList()) {
                Files.copy(f, copy.resolve(f.getFileName()));
            }
        }
        Path in = write("once.jsonl", "{\"prompt\": \"a\"}", "{\"prompt\": \"b\"}", "{\"prompt\": \"c\"}", "{\"prompt\": \"d\"}",
                "{\"prompt\": \"e\"}", "{\"prompt\": \"f\"}");
        int before = ModelCache.modelLoads();
        runJob("generate", "--model", copy.toString(), "--input", in.toString(), "--output", out("once-gen"), "--partitions", "3",
                "--format", "jsonl", "--max-new-tokens", "3", "--batch-size", "1");
        Path ids = write("once-ids.jsonl", "{\"text\": \"a\"}", "{\"text\": \"b\"}", "{\"text\": \"c\"}");
        runJob("logprobs", "--model", copy.toString(), "--input", ids.toString(), "--output", out("once-lp"), "--partitions", "3",
                "--format", "jsonl", "--batch-size", "1");
        assertEquals(1, ModelCache.modelLoads() - before, "one load for 6 + 3 partitions in two jobs");
    }

    @Test
    void refusesToWriteIntoAnExistingOutputAndNamesBadLines() throws Exception {
        Path in = write("refuse.jsonl", "{\"text\": \"a\"}");
        runJob("logprobs", "--model", base.toString(), "--input", in.toString(), "--output", out("refused"), "--format", "jsonl");
        List<JsonNode> first = rows(tmp.resolve("refused"));
        Run again = job("logprobs", "--model", base.toString(), "--input", in.toString(), "--output", out("refused"));
        assertEquals(1, again.code());
        assertEquals("error: --output " + out("refused") + " already exists: a job never writes into an existing output (give a new"
                + " folder, or delete this one)", again.err().strip());
        assertEquals(first, rows(tmp.resolve("refused")));

        Path bad = write("bad.jsonl", "{\"text\": \"a\"}", "{not json", "{\"text\": \"c\"}");
        Run r = job("logprobs", "--model", base.toString(), "--input", bad.toString(), "--output", out("bad-out"));
        assertEquals(1, r.code());
        assertTrue(r.err().strip().startsWith("error: " + bad + ":2: not valid JSON"), r.err());
        assertEquals(1, r.err().strip().lines().count(), r.err());
        assertFalse(Files.exists(tmp.resolve("bad-out")));
    }

    @Test
    void dryRunPrintsTheSparkSubmitLineForYarnAndKubernetes() throws Exception {
        Path jars = tmp.resolve("submit-classpath.txt");
        Files.writeString(jars, "/m2/loro-core.jar:/m2/picocli.jar");
        System.setProperty(Jobs.SUBMIT_JARS, jars.toString());
        try {
            String app = Path.of(Jobs.class.getProtectionDomain().getCodeSource().getLocation().toURI()).toString();
            String submit = System.getenv("SPARK_HOME") != null ? System.getenv("SPARK_HOME") + "/bin/spark-submit"
                    : "\"$SPARK_HOME/bin/spark-submit\"";
            Run yarn = job("generate", "--model", "/models/base", "--input", "hdfs:///data/prompts.jsonl", "--output",
                    "hdfs:///out/samples", "--master", "yarn", "--num-samples", "4", "--dry-run");
            assertEquals(0, yarn.code(), yarn.err());
            assertEquals(submit + " --master yarn --class ai.loro.spark.SparkMain --conf spark.speculation=false"
                    + " --conf spark.executor.extraJavaOptions=-Dai.djl.offline=true --jars /m2/loro-core.jar,/m2/picocli.jar " + app
                    + " generate --model /models/base --input hdfs:///data/prompts.jsonl --output hdfs:///out/samples"
                    + " --num-samples 4 --submitted", yarn.out().strip());
            Run k8s = job("logprobs", "--master=k8s://https://10.0.0.1:6443", "--dry-run", "--model", "/models/base", "--input",
                    "s3a://bucket/in.jsonl", "--output", "s3a://bucket/out", "--partitions", "64");
            assertEquals(0, k8s.code(), k8s.err());
            assertEquals(submit + " --master k8s://https://10.0.0.1:6443 --class ai.loro.spark.SparkMain"
                    + " --conf spark.speculation=false --conf spark.executor.extraJavaOptions=-Dai.djl.offline=true"
                    + " --jars /m2/loro-core.jar,/m2/picocli.jar " + app + " logprobs --model /models/base --input s3a://bucket/in.jsonl"
                    + " --output s3a://bucket/out --partitions 64 --submitted", k8s.out().strip());
        } finally {
            System.clearProperty(Jobs.SUBMIT_JARS);
        }
    }
}
