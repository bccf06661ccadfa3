package ai.loro.spark;

import static org.junit.jupiter.api.Assertions.assertEquals;

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

/** Shared by the Spark test classes: tiny models, running loro / loro spark in this JVM, reading job outputs. */
final class SparkPipelineFixtures {
    private SparkPipelineFixtures() {}

    static final ObjectMapper JSON = new ObjectMapper();

    record Run(int code, String out, String err) {}

    /** A random tiny Llama with a byte-level ChatML tokenizer in {@code dir/name}. */
    static Path tinyModel(Path dir, String name, long seed) throws Exception {
        Path cfg = dir.resolve(name + "-shape.json");
        Files.writeString(cfg, "{\"architectures\":[\"LlamaForCausalLM\"],\"vocab_size\":264,\"hidden_size\":32,"
                + "\"intermediate_size\":64,\"num_hidden_layers\":2,\"num_attention_heads\":4,\"num_key_value_heads\":2,"
                + "\"bos_token_id\":256,\"eos_token_id\":263,\"pad_token_id\":258,\"tie_word_embeddings\":true,"
                + "\"initializer_range\":0.3}");
        Path out = dir.resolve(name);
        Run r = cli("init-model", "--config", cfg.toString(), "--out", out.toString(), "--byte-tokenizer", "chatml", "--seed",
                String.valueOf(seed));
        assertEquals(0, r.code(), r.err());
        return out;
    }

    /** A random tiny reward model (LlamaForSequenceClassification, one label). */
    static Path tinyRewardModel(Path dir, String name, long seed) throws Exception {
        Path cfg = dir.resolve(name + "-shape.json");
        Files.writeString(cfg, "{\"architectures\":[\"LlamaForSequenceClassification\"],\"vocab_size\":264,\"hidden_size\":32,"
                + "\"intermediate_size\":64,\"num_hidden_layers\":2,\"num_attention_heads\":4,\"num_key_value_heads\":2,"
                + "\"bos_token_id\":256,\"eos_token_id\":263,\"pad_token_id\":258,\"tie_word_embeddings\":true,"
                + "\"initializer_range\":0.3,\"num_labels\":1}");
        Path out = dir.resolve(name);
        Run r = cli("init-model", "--config", cfg.toString(), "--out", out.toString(), "--byte-tokenizer", "chatml", "--seed",
                String.valueOf(seed));
        assertEquals(0, r.code(), r.err());
        return out;
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
    static List<JsonNode> rows(SparkSession spark, Path dir) throws Exception {
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
}
