package ai.loro.cli;

import static org.junit.jupiter.api.Assertions.*;

import ai.loro.core.recipe.Recipe;
import ai.loro.core.recipe.RecipeLoader;
import ai.loro.core.train.StageResult;
import ai.loro.reward.ClassifierStage;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Reward models and DPO on a learnable synthetic preference (helpful vs. rude replies, the project's
 * own data): held-out pairwise accuracy, DPO reward accuracies and margins rising, exported reward
 * models scoring as base + adapter, and a killed DPO run resuming to the same adapter.
 */
class TrainPreferenceTest {
    @TempDir static Path tmp;
    static Path base;

    static final String[] TOPICS = Fixtures.TOPICS;

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
        Fixtures.preferenceData(tmp.resolve("pref.jsonl"), tmp.resolve("hh.jsonl"), tmp.resolve("sft.jsonl"));
    }

    static Path recipe(String name, String stage, String data, String type, String extra) throws Exception {
        Path r = tmp.resolve(name + ".yaml");
        Files.writeString(r, "stage: " + stage + "\nbase_model: base\noutput_dir: runs/" + name + "\nseed: 5\n"
                + "datasets:\n  - path: " + data + "\n    type: " + type + "\n"
                + "adapter:\n  type: lora\n  r: 4\n  alpha: 8\n  dropout: 0.0\n  target_modules: all-linear\n"
                + "sequence_len: 160\nmicro_batch_size: 8\nlearning_rate: 5.0e-3\nwarmup_steps: 1\nlogging_steps: 1\n"
                + "val_set_size: 0.25\nprogress_bar: false\n" + extra);
        return r;
    }

    static List<JsonNode> metrics(Path out, String split) throws Exception {
        ObjectMapper json = new ObjectMapper();
        return Files.readAllLines(out.resolve("metrics.jsonl")).stream().map(l -> {
            try {
                return json.readTree(l);
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
        }).filter(n -> n.get("split").asText().equals(split)).toList();
    }

    @Test
    void rewardModelLearnsThePreferenceAndItsExportsScoreAlike() throws Exception {
        Path r = recipe("rm", "reward", "hh.jsonl", "hh-rlhf", "max_steps: 16\neval_steps: 8\n");
        CliTest.Run run = CliTest.run("train", r.toString());
        assertEquals(0, run.code(), run.err());
        Path out = tmp.resolve("runs/rm");
        List<JsonNode> eval = metrics(out, "eval");
        double accuracy = eval.get(eval.size() - 1).get("accuracy").asDouble();
        assertTrue(accuracy >= 0.9, "held-out pairwise accuracy " + accuracy);
        assertTrue(run.out().matches("(?s).*done: 16 steps, last train loss \\d+\\.\\d+, held-out pairwise accuracy [01]\\.\\d{3};.*"),
                run.out());
        assertTrue(Files.readString(out.resolve("model/config.json")).contains("\"pad_token_id\" : 258"));
        Fixtures.assertGenerationConfigFromBase(out.resolve("model"));
        assertTrue(Files.readString(out.resolve("adapter/adapter_config.json")).contains("\"modules_to_save\": [\n    \"score\""));
        // the exported sequence-classification checkpoint and base + PEFT adapter give the same rewards
        Path pairs = tmp.resolve("score-in.jsonl");
        Files.writeString(pairs, Files.readAllLines(tmp.resolve("pref.jsonl")).get(0) + "\n{\"text\": \"hello\"}\n");
        CliTest.Run merged = CliTest.run("score", "--model", out.resolve("model").toString(), "--input", pairs.toString());
        CliTest.Run stacked = CliTest.run("score", "--model", base.toString(), "--adapter", out.resolve("adapter").toString(),
                "--input", pairs.toString());
        assertEquals(0, merged.code(), merged.err());
        assertEquals(0, stacked.code(), stacked.err());
        ObjectMapper json = new ObjectMapper();
        List<String> a = merged.out().lines().filter(l -> l.startsWith("{")).toList();
        List<String> b = stacked.out().lines().filter(l -> l.startsWith("{")).toList();
        assertEquals(2, a.size());
        assertEquals(json.readTree(a.get(0)).get("reward_chosen").asDouble(), json.readTree(b.get(0)).get("reward_chosen").asDouble(), 1e-4);
        assertEquals(json.readTree(a.get(1)).get("reward").asDouble(), json.readTree(b.get(1)).get("reward").asDouble(), 1e-4);
        assertTrue(json.readTree(a.get(0)).get("chosen_preferred").asBoolean());
        // a causal LM is not a reward model
        CliTest.assertOneLineError(CliTest.run("score", "--model", base.toString(), "--input", pairs.toString()),
                "is not a reward model");
    }

    @Test
    void dpoRaisesRewardAccuracyAndMargins() throws Exception {
        Path r = recipe("dpo", "dpo", "pref.jsonl", "preference", "max_steps: 12\neval_steps: 4\ndpo:\n  beta: 0.1\n  rpo_alpha: 1.0\n");
        CliTest.Run run = CliTest.run("train", r.toString());
        assertEquals(0, run.code(), run.err());
        List<JsonNode> train = metrics(tmp.resolve("runs/dpo"), "train");
        JsonNode first = train.get(0);
        JsonNode last = train.get(train.size() - 1);
        for (String k : List.of("rewards/chosen", "rewards/rejected", "rewards/accuracies", "rewards/margins", "logps/chosen",
                "logps/rejected", "nll_loss")) {
            assertTrue(last.has(k), k + " missing in " + last);
        }
        // at step 1 the policy equals the reference: margins 0, the sigmoid loss ln 2 plus the NLL term
        assertEquals(0.0, first.get("rewards/margins").asDouble(), 1e-4);
        assertTrue(last.get("rewards/margins").asDouble() > 0.5, "margins " + last.get("rewards/margins"));
        List<JsonNode> eval = metrics(tmp.resolve("runs/dpo"), "eval");
        assertTrue(eval.get(eval.size() - 1).get("rewards/accuracies").asDouble() >= 0.9, eval.toString());
    }

    @Test
    void separateOrPrecomputedReferenceEqualsTheAdapterOffReference() throws Exception {
        String common = "max_steps: 3\ndeterministic: true\n";
        assertEquals(0, CliTest.run("train", recipe("ref-off", "dpo", "pref.jsonl", "preference",
                common + "dpo:\n  beta: 0.1\n").toString()).code());
        CliTest.Run run = CliTest.run("train", recipe("ref-file", "dpo", "pref.jsonl", "preference",
                common + "dpo:\n  beta: 0.1\n  reference_model: base\n  precompute_ref_log_probs: true\n").toString());
        assertEquals(0, run.code(), run.err());
        // the base with the adapter off is exactly the base: both references train the same adapter
        Fixtures.assertSameTensors(tmp.resolve("runs/ref-off/adapter/adapter_model.safetensors"),
                tmp.resolve("runs/ref-file/adapter/adapter_model.safetensors"));
    }

    @Test
    void rewardModelFullFineTuningWritesOnlyTheModel() throws Exception {
        Path r = recipe("rm-full", "reward", "hh.jsonl", "hh-rlhf", "max_steps: 3\n");
        Files.writeString(r, Files.readString(r).replace("  type: lora", "  type: none"));
        CliTest.Run run = CliTest.run("train", r.toString(), "--set", "val_set_size=0");
        assertEquals(0, run.code(), run.err());
        // no validation split: said so, not "held-out pairwise accuracy NaN"
        assertTrue(run.out().contains(", no validation split (val_set_size is 0), so no held-out pairwise accuracy;"
                + " reward model "), run.out());
        assertFalse(run.out().contains("NaN"), run.out());
        assertTrue(Files.exists(tmp.resolve("runs/rm-full/model/model.safetensors")));
        assertFalse(Files.exists(tmp.resolve("runs/rm-full/adapter")));
        assertTrue(Files.readString(tmp.resolve("runs/rm-full/model/config.json")).contains("LlamaForSequenceClassification"));
        Fixtures.assertGenerationConfigFromBase(tmp.resolve("runs/rm-full/model"));
    }

    @Test
    void killedDpoRunResumesToTheSameAdapter() throws Exception {
        String extra = "max_steps: 10\nsave_steps: 2\ndeterministic: true\ndpo:\n  beta: 0.2\n  loss_type: ipo\n";
        Path straight = recipe("dpo-straight", "dpo", "pref.jsonl", "preference", extra);
        assertEquals(0, CliTest.run("train", straight.toString()).code());
        Path killed = recipe("dpo-killed", "dpo", "pref.jsonl", "preference", extra);
        Path out = tmp.resolve("runs/dpo-killed");
        Process p = new ProcessBuilder(TrainSftTest.javaBin(), "-cp", System.getProperty("java.class.path"), Main.class.getName(),
                "train", killed.toString()).redirectErrorStream(true).redirectOutput(tmp.resolve("dpo-killed.log").toFile()).start();
        long deadline = System.currentTimeMillis() + 120_000;
        while (!Files.exists(out.resolve("checkpoints/step-4")) && System.currentTimeMillis() < deadline && p.isAlive()) {
            Thread.sleep(20);
        }
        assertTrue(p.isAlive(), "ended before the kill: " + Files.readString(tmp.resolve("dpo-killed.log")));
        p.destroyForcibly();
        p.waitFor(30, TimeUnit.SECONDS);
        assertEquals(0, CliTest.run("train", killed.toString()).code());
        Fixtures.assertSameTensors(tmp.resolve("runs/dpo-straight/adapter/adapter_model.safetensors"),
                out.resolve("adapter/adapter_model.safetensors"));
    }

    @Test
    void preferenceStagesRefuseSftDataAndBadRows() throws Exception {
        Path sft = tmp.resolve("sft.jsonl");
        Files.writeString(sft, "{\"instruction\": \"a\", \"input\": \"\", \"output\": \"b\"}\n");
        CliTest.assertOneLineError(CliTest.run("train", recipe("wrongtype", "dpo", "sft.jsonl", "alpaca", "max_steps: 1\n").toString()),
                "not a preference format");
        Path bad = tmp.resolve("bad.jsonl");
        Files.writeString(bad, "{\"prompt\": \"q\", \"chosen\": \"same\", \"rejected\": \"same\"}\n");
        CliTest.assertOneLineError(CliTest.run("train", recipe("badrows", "reward", "bad.jsonl", "preference", "max_steps: 1\n").toString()),
                "bad.jsonl:1");
    }

    /** tmp/sentiment.jsonl: 40 texts labelled pos or neg. */
    static synchronized void sentimentData() throws Exception {
        StringBuilder sb = new StringBuilder();
        String[] pos = {"I love %s!", "Great %s, thanks."};
        String[] neg = {"I hate %s.", "Awful %s, broken."};
        for (int i = 0; i < 40; i++) {
            String t = TOPICS[i % TOPICS.length];
            boolean good = i % 2 == 0;
            sb.append(String.format("{\"text\": \"%s\", \"label\": \"%s\"}%n",
                    String.format((good ? pos : neg)[(i / 2) % 2], t), good ? "pos" : "neg"));
        }
        Files.writeString(tmp.resolve("sentiment.jsonl"), sb.toString());
    }

    @Test
    void classifierWithSeveralLabelsReportsAccuracyAndConfusion() throws Exception {
        sentimentData();
        Path r = recipe("cls", "reward", "sentiment.jsonl", "classification",
                "max_steps: 20\nreward:\n  num_labels: 2\n  labels: [pos, neg]\n");
        CliTest.Run run = CliTest.run("train", r.toString());
        assertEquals(0, run.code(), run.err());
        assertTrue(run.out().contains("confusion matrix"), run.out());
        JsonNode confusion = new ObjectMapper().readTree(tmp.resolve("runs/cls/confusion.json").toFile());
        assertTrue(confusion.get("accuracy").asDouble() >= 0.8, confusion.toString());
        // the label names travel with the checkpoint, as transformers' id2label / label2id
        JsonNode written = new ObjectMapper().readTree(tmp.resolve("runs/cls/model/config.json").toFile());
        assertEquals("neg", written.path("id2label").path("1").asText());
        assertEquals(0, written.path("label2id").path("pos").asInt(-1));
        Fixtures.assertGenerationConfigFromBase(tmp.resolve("runs/cls/model"));
        CliTest.Run noVal = CliTest.run("train", recipe("cls-noval", "reward", "sentiment.jsonl", "classification",
                "max_steps: 1\nreward:\n  num_labels: 2\n  labels: [pos, neg]\n").toString(), "--set", "val_set_size=0");
        assertEquals(0, noVal.code(), noVal.err());
        assertTrue(noVal.out().contains("no validation split (val_set_size is 0), so no held-out accuracy or confusion"
                + " matrix"), noVal.out());
        assertFalse(noVal.out().contains("NaN") || noVal.out().contains("confusion matrix (rows"), noVal.out());
        assertFalse(Files.exists(tmp.resolve("runs/cls-noval/confusion.json")));
        Files.writeString(tmp.resolve("badlabel.jsonl"), "{\"text\": \"x\", \"label\": \"maybe\"}\n");
        CliTest.assertOneLineError(CliTest.run("train", recipe("badlabel", "reward", "badlabel.jsonl", "classification",
                "max_steps: 1\nreward:\n  num_labels: 2\n  labels: [pos, neg]\n").toString()), "badlabel.jsonl:1");
    }

    /**
     * The classifier's evaluation runs with adapter dropout off, however high the recipe's dropout:
     * the loop's evaluation after the last step and the held-out report after training (two
     * evaluations of the same weights) agree exactly. With dropout left on during the loop's
     * evaluation, its loss is a noisy draw and differs.
     */
    @Test
    void classifierEvaluatesWithDropoutOff() throws Exception {
        sentimentData();
        Path r = recipe("cls-dropout", "reward", "sentiment.jsonl", "classification",
                "max_steps: 6\neval_steps: 3\nreward:\n  num_labels: 2\n  labels: [pos, neg]\n");
        Recipe recipe = Recipes.load(r, List.of("adapter.dropout=0.5", "learning_rate=0.05"));
        StageResult result = ClassifierStage.run(recipe, new PrintStream(OutputStream.nullOutputStream()));
        List<JsonNode> evals = metrics(tmp.resolve("runs/cls-dropout"), "eval");
        assertEquals(List.of(3, 6), evals.stream().map(e -> e.get("step").asInt()).toList());
        JsonNode last = evals.get(1);
        assertEquals(result.metrics().get("loss"), last.get("loss").asDouble(), 1e-12, last.toString());
        assertEquals(result.metrics().get("accuracy"), last.get("accuracy").asDouble(), 0.0, last.toString());
        JsonNode confusion = new ObjectMapper().readTree(tmp.resolve("runs/cls-dropout/confusion.json").toFile());
        assertEquals(result.metrics().get("accuracy"), confusion.get("accuracy").asDouble(), 0.0);
    }
}
