package ai.loro.spark;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code loro spark ref-logprobs} and {@code dpo.reference_log_probs} in local[2]: the job's reference log-probs equal
 * the sums of {@code loro logprobs} over each response's tokens (1e-5 per token) with 1 or 3 partitions; a DPO run reading them
 * logs the same losses and metrics as one computing them (1e-5, relative above 1); a folder that does not match the pairs is a one-line error.
 */
class RefLogprobsDpoTest {
    @TempDir static Path tmp;
    static Path base;
    static Path ref;
    static Path pairs;
    static SparkSession spark;
    static final ObjectMapper JSON = new ObjectMapper();

    @BeforeAll
    static void setUp() throws Exception {
        spark = Sessions.embedded("local[2]", "RefLogprobsDpoTest");
        base = SparkPipelineFixtures.tinyModel(tmp, "base", 3);
        ref = SparkPipelineFixtures.tinyModel(tmp, "ref", 4); // dpo.reference_model: margins far from 0 at step 1
        List<String> lines = new ArrayList<>();
        String[] topics = {"tea", "rain", "maps", "bikes", "jazz", "owls", "salt", "kites", "moss", "glass"};
        for (int i = 0; i < topics.length; i++) {
            lines.add(JSON.writeValueAsString(JSON.createObjectNode().put("prompt", "tell me about " + topics[i])
                    .put("chosen", topics[i] + " is lovely, thanks for asking").put("rejected", "no." + "!".repeat(i % 3))));
        }
        pairs = tmp.resolve("pairs.jsonl");
        Files.write(pairs, lines);
    }

    @AfterAll
    static void tearDown() {
        spark.stop();
    }

    static List<JsonNode> refJob(String out, int partitions, String format) throws Exception {
        SparkPipelineFixtures.Run r = SparkPipelineFixtures.job("ref-logprobs", "--model", ref.toString(), "--input", pairs.toString(),
                "--output", out, "--partitions", String.valueOf(partitions), "--format", format, "--sequence-len", "96",
                "--batch-size", "3");
        assertEquals(0, r.code(), r.err());
        return SparkPipelineFixtures.rows(spark, Path.of(out));
    }

    @Test
    void refLogprobsEqualLoroLogprobsSumsWithOneOrThreePartitions() throws Exception {
        List<JsonNode> one = refJob(tmp.resolve("ref-1").toString(), 1, "jsonl");
        List<JsonNode> three = refJob(tmp.resolve("ref-3").toString(), 3, "parquet");
        assertEquals(10, one.size());
        assertEquals(10, three.size());
        // the in-process command: loro logprobs of each response's token row, summed over the response's tokens
        StringBuilder in = new StringBuilder();
        for (JsonNode j : one) {
            in.append("{\"input_ids\": ").append(j.get("chosen_input_ids")).append("}\n");
            in.append("{\"input_ids\": ").append(j.get("rejected_input_ids")).append("}\n");
        }
        Path lpIn = tmp.resolve("lp-in.jsonl");
        Files.writeString(lpIn, in.toString());
        Path lpOut = tmp.resolve("lp-out.jsonl");
        SparkPipelineFixtures.Run lp = SparkPipelineFixtures.cli("logprobs", "--model", ref.toString(), "--input", lpIn.toString(),
                "--output", lpOut.toString());
        assertEquals(0, lp.code(), lp.err());
        List<ai.loro.datasets.EncodedPair> encoded = encode();
        List<String> lpLines = Files.readAllLines(lpOut).stream().filter(l -> !l.isBlank()).toList();
        for (int i = 0; i < one.size(); i++) {
            JsonNode j = one.get(i);
            assertEquals(i, j.get("row").asInt());
            assertEquals(j.get("chosen_input_ids"), three.get(i).get("chosen_input_ids"));
            ai.loro.datasets.EncodedPair e = encoded.get(i);
            assertEquals(java.util.Arrays.toString(e.chosenIds()).replace(" ", ""), j.get("chosen_input_ids").toString());
            double chosen = responseSum(JSON.readTree(lpLines.get(2 * i)).get("logprobs"), e.chosenMask());
            double rejected = responseSum(JSON.readTree(lpLines.get(2 * i + 1)).get("logprobs"), e.rejectedMask());
            // 1e-5 per summed token: loro logprobs' values are fp32, summed here in another order
            double tc = 1e-5 * count(e.chosenMask());
            double tr = 1e-5 * count(e.rejectedMask());
            assertEquals(chosen, j.get("ref_chosen_logps").asDouble(), tc, "row " + i);
            assertEquals(rejected, j.get("ref_rejected_logps").asDouble(), tr, "row " + i);
            // and 1 vs 3 partitions (jsonl vs parquet) give the same values
            assertEquals(j.get("ref_chosen_logps").asDouble(), three.get(i).get("ref_chosen_logps").asDouble(), 1e-5, "row " + i);
            assertEquals(j.get("ref_rejected_logps").asDouble(), three.get(i).get("ref_rejected_logps").asDouble(), 1e-5, "row " + i);
            assertTrue(chosen < 0 && rejected < 0);
        }
    }

    /** The pairs as the DPO stage encodes them (chat template of the tokenizer, sequence_len 96). */
    private static List<ai.loro.datasets.EncodedPair> encode() throws Exception {
        try (ai.loro.core.tokenizer.LoroTokenizer tok = ai.loro.core.tokenizer.LoroTokenizer.load(ref)) {
            ai.loro.datasets.PreferenceEncoder enc = new ai.loro.datasets.PreferenceEncoder(tok, ai.loro.datasets.EncodeOptions.of(96)
                    .withTemplate(ai.loro.datasets.Templates.resolve("tokenizer", tok)).withStrictBoundaries(false));
            List<ai.loro.datasets.EncodedPair> out = new ArrayList<>();
            for (ai.loro.datasets.Row row : ai.loro.datasets.DatasetReader.read(pairs)) {
                out.add(enc.encode(ai.loro.datasets.PreferenceFormat.PREFERENCE.parse(row).get(0)));
            }
            return out;
        }
    }

    private static int count(boolean[] mask) {
        int n = 0;
        for (boolean b : mask) {
            n += b ? 1 : 0;
        }
        return n;
    }

    /** Σ logprobs[t] over the positions whose next token is a response token (mask[t + 1]). */
    private static double responseSum(JsonNode logprobs, boolean[] mask) {
        double s = 0;
        for (int t = 0; t < logprobs.size(); t++) {
            if (mask[t + 1]) {
                s += logprobs.get(t).asDouble();
            }
        }
        return s;
    }

    private static Path recipe(String name, String extraDpo) throws Exception {
        Path r = tmp.resolve(name + ".yaml");
        Files.writeString(r, "stage: dpo\nbase_model: base\noutput_dir: runs/" + name + "\nseed: 5\n"
                + "datasets:\n  - path: pairs.jsonl\n    type: preference\n"
                + "adapter:\n  type: lora\n  r: 4\n  alpha: 8\n  dropout: 0.0\n  target_modules: all-linear\n"
                + "dpo:\n  beta: 0.1\n  rpo_alpha: 0.5\n  reference_model: ref\n" + extraDpo
                + "sequence_len: 96\nmicro_batch_size: 3\nmax_steps: 4\nlearning_rate: 5.0e-3\nwarmup_steps: 1\nlogging_steps: 1\n"
                + "eval_steps: 2\nval_set_size: 0.3\nprogress_bar: false\n");
        return r;
    }

    @Test
    void dpoReadingTheJobsOutputLogsTheSameLossesAndMetrics() throws Exception {
        Path ref = tmp.resolve("ref-for-dpo");
        refJob(ref.toString(), 2, "jsonl");
        SparkPipelineFixtures.Run computed = SparkPipelineFixtures.cli("train", recipe("computed", "").toString());
        assertEquals(0, computed.code(), computed.err());
        SparkPipelineFixtures.Run read = SparkPipelineFixtures.cli("train",
                recipe("read", "  reference_log_probs: " + ref + "\n").toString());
        assertEquals(0, read.code(), read.err());
        assertTrue(read.out().contains("reference log-probs: read from " + ref), read.out());
        List<JsonNode> a = SparkPipelineFixtures.jsonLines(tmp.resolve("runs/computed/metrics.jsonl"));
        List<JsonNode> b = SparkPipelineFixtures.jsonLines(tmp.resolve("runs/read/metrics.jsonl"));
        assertEquals(a.size(), b.size());
        assertTrue(a.stream().anyMatch(j -> j.get("split").asText().equals("eval")));
        int compared = 0;
        for (int i = 0; i < a.size(); i++) {
            JsonNode x = a.get(i);
            JsonNode y = b.get(i);
            assertEquals(x.get("step"), y.get("step"));
            assertEquals(x.get("split"), y.get("split"));
            for (var it = x.fields(); it.hasNext(); ) {
                var f = it.next();
                if (f.getValue().isNumber() && !f.getKey().contains("time") && !f.getKey().contains("per_second")
                        && !f.getKey().contains("seconds") && !f.getKey().startsWith("memory")) {
                    assertTrue(y.has(f.getKey()), f.getKey());
                    double v = f.getValue().asDouble(); // 1e-5, relative for summed log-probs of ~200 nats
                    assertEquals(v, y.get(f.getKey()).asDouble(), 1e-5 * Math.max(1, Math.abs(v)), "line " + i + " " + f.getKey());
                    compared++;
                }
            }
        }
        assertTrue(compared > 20, "compared " + compared + " numbers");
        assertTrue(Files.readString(tmp.resolve("runs/read/recipe.yaml")).contains("reference_log_probs: " + ref));
        assertTrue(!Files.readString(tmp.resolve("runs/computed/recipe.yaml")).contains("reference_log_probs"));
    }

    @Test
    void aFolderThatDoesNotMatchThePairsIsAOneLineError() throws Exception {
        // the same pairs, lines in another order: row 0 holds another pair's tokens
        List<String> lines = new ArrayList<>(Files.readAllLines(pairs));
        java.util.Collections.reverse(lines);
        Path reversed = tmp.resolve("reversed.jsonl");
        Files.write(reversed, lines);
        Path wrong = tmp.resolve("ref-wrong");
        SparkPipelineFixtures.Run r = SparkPipelineFixtures.job("ref-logprobs", "--model", ref.toString(), "--input", reversed.toString(),
                "--output", wrong.toString(), "--format", "jsonl", "--sequence-len", "96");
        assertEquals(0, r.code(), r.err());
        SparkPipelineFixtures.Run bad = SparkPipelineFixtures.cli("train", recipe("wrong", "  reference_log_probs: " + wrong + "\n").toString());
        assertEquals(1, bad.code());
        assertEquals(1, bad.err().strip().lines().count(), bad.err());
        assertTrue(bad.err().strip().matches("error: dpo\\.reference_log_probs " + java.util.regex.Pattern.quote(wrong.toString())
                + ": row \\d+ holds other token ids than the pair at .*pairs\\.jsonl:\\d+ .*"), bad.err());

        // a folder with fewer rows than the pairs file
        Path half = tmp.resolve("half.jsonl");
        Files.write(half, Files.readAllLines(pairs).subList(0, 4));
        Path short_ = tmp.resolve("ref-short");
        assertEquals(0, SparkPipelineFixtures.job("ref-logprobs", "--model", ref.toString(), "--input", half.toString(), "--output",
                short_.toString(), "--format", "jsonl", "--sequence-len", "96").code());
        SparkPipelineFixtures.Run missing = SparkPipelineFixtures.cli("train", recipe("short", "  reference_log_probs: " + short_ + "\n").toString());
        assertEquals(1, missing.code());
        assertTrue(missing.err().strip().matches("error: dpo\\.reference_log_probs " + java.util.regex.Pattern.quote(short_.toString())
                + ": no row \\d+ for the pair at .*pairs\\.jsonl:\\d+ .*"), missing.err());

        SparkPipelineFixtures.Run none = SparkPipelineFixtures.cli("train", recipe("none", "  reference_log_probs: nowhere\n").toString());
        assertEquals(1, none.code());
        assertEquals("error: dpo.reference_log_probs " + tmp.resolve("nowhere") + ": not a folder (give the --output folder of loro"
                + " spark ref-logprobs)", none.err().strip());
    }
}
