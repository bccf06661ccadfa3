package ai.loro.cli;

import static org.junit.jupiter.api.Assertions.*;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.ndarray.types.DataType;
import ai.djl.pytorch.jni.JniUtils;
import ai.loro.core.generate.Generator;
import ai.loro.core.model.LlamaModel;
import ai.loro.core.tokenizer.LoroTokenizer;
import ai.loro.lora.LoraAdapter;
import ai.loro.lora.Peft;
import ai.loro.rlhf.PpoStage;
import ai.loro.rlhf.Prompts;
import ai.loro.rlhf.Rollout;
import ai.loro.rlhf.ValueHead;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * PPO end to end on a tiny random model with a reward that is easy to learn (the share of
 * lower-case letters in the response): the reward rises while the KL stays finite and, with k1,
 * non-negative on average; the reference is exactly the base; a killed run resumes bit-identical;
 * bad configurations fail in one line.
 */
class PpoTrainTest {
    @TempDir static Path tmp;
    static Path base;
    static final String LETTERS = "abcdefghijklmnopqrstuvwxyz";

    static int threads;

    @AfterAll
    static void restoreThreads() {
        JniUtils.setNumThreads(threads);
    }

    @BeforeAll
    static void setUp() throws Exception {
        // one intra-op thread: tiny matrices gain nothing from more, and a busy 2-core machine makes
        // libtorch's spinning threads 10x slower; the killed subprocess below runs with the same
        ai.djl.engine.Engine.getInstance(); // loads libtorch
        threads = JniUtils.getNumThreads();
        JniUtils.setNumThreads(1);
        base = Fixtures.tinyBase(tmp);
        StringBuilder prompts = new StringBuilder();
        String[] topics = {"cats", "soup", "trains", "the moon", "paint", "shoes", "Java", "gifts"};
        for (int i = 0; i < 24; i++) {
            String t = topics[i % topics.length];
            if (i % 3 == 0) {
                prompts.append(String.format("{\"messages\": [{\"role\": \"system\", \"content\": \"Be brief.\"},"
                        + " {\"role\": \"user\", \"content\": \"Say something about %s.\"}], \"answer\": \"%s\"}%n", t, t));
            } else {
                prompts.append(String.format("{\"prompt\": \"Tell me about %s (%d).\", \"answer\": \"%s\"}%n", t, i, t));
            }
        }
        Files.writeString(tmp.resolve("prompts.jsonl"), prompts.toString());
    }

    static Path recipe(String name, String extra, String ppo) throws Exception {
        Path r = tmp.resolve(name + ".yaml");
        Files.writeString(r, RlTrainRuns.recipeHead("ppo", name, extra) + "ppo:\n  rollout_batch_size: 16\n  num_mini_batches: 2\n  ppo_epochs: 4\n  max_new_tokens: 6\n"
                + "  temperature: 1.0\n  kl_coef: 0.02\n  sample_every: 10\n" + ppo);
        return r;
    }

    /** A random *ForSequenceClassification checkpoint tmp/NAME of the tiny shape, with extra config.json fields. */
    static void classifierCheckpoint(String name, String extraConfigFields) throws Exception {
        Path cfg = tmp.resolve(name + ".json");
        Files.writeString(cfg, Files.readString(tmp.resolve("shape.json")).replace("LlamaForCausalLM", "LlamaForSequenceClassification")
                .replace("\"initializer_range\":0.3", "\"initializer_range\":0.3," + extraConfigFields));
        assertEquals(0, CliTest.run("init-model", "--config", cfg.toString(), "--out", tmp.resolve(name).toString(),
                "--byte-tokenizer", "chatml").code());
    }

    static List<JsonNode> metrics(Path out) throws Exception {
        return RlTrainRuns.metrics(out);
    }

    static double mean(List<JsonNode> lines, String key, int from, int to) {
        return lines.subList(from, to).stream().mapToDouble(n -> n.get(key).asDouble()).average().orElseThrow();
    }

    @Test
    void rewardRisesWhileKlStaysFiniteAndNonNegative() throws Exception {
        Path r = recipe("learn", "max_steps: 30\n", "  reward_functions: [\"char_fraction:" + LETTERS + "\"]\n");
        CliTest.Run run = CliTest.run("train", r.toString());
        assertEquals(0, run.code(), run.err());
        assertTrue(run.out().contains("samples at step 10"), run.out());
        Path out = tmp.resolve("runs/learn");
        List<JsonNode> m = metrics(out);
        assertEquals(30, m.size());
        for (String k : List.of("objective/kl", "objective/entropy", "objective/kl_coef", "env/reward_mean", "env/reward_std",
                "ppo/loss/policy", "ppo/loss/value", "ppo/policy/approxkl", "ppo/policy/clipfrac", "ppo/returns/mean",
                "ppo/val/vpred", "lr", "time/generation_s", "time/scoring_s", "time/optimization_s",
                "time/rollout_tokens_per_s")) {
            assertTrue(m.get(29).has(k) && !m.get(29).get(k).isNull(), k + " missing in " + m.get(29));
        }
        assertEquals("train", m.get(0).get("split").asText());
        // the adapter starts as a zero delta: the policy is exactly the reference at step 1
        assertEquals(0.0, m.get(0).get("objective/kl").asDouble(), 0.0);
        double before = mean(m, "env/reward_mean", 0, 5);
        double after = mean(m, "env/reward_mean", 25, 30);
        System.out.printf("PPO reward %.4f -> %.4f, kl last %.4f%n", before, after, m.get(29).get("objective/kl").asDouble());
        assertTrue(after > before + 0.2, "reward " + before + " -> " + after);
        double klSum = 0;
        for (JsonNode n : m) {
            assertTrue(Double.isFinite(n.get("objective/kl").asDouble()), n.toString());
            klSum += n.get("objective/kl").asDouble();
        }
        assertTrue(klSum / m.size() >= 0, "mean k1 KL over the run is negative: " + klSum / m.size());
        assertTrue(klSum > 0, "the policy never moved away from the reference");
        assertTrue(Files.readString(out.resolve("adapter/adapter_config.json")).contains("CAUSAL_LM"));
        assertEquals(32, ValueHead.read(out.resolve("value_head.safetensors")).get(ValueHead.WEIGHT).length);
        assertTrue(Files.readAllLines(out.resolve("samples.jsonl")).size() >= 16 * 3);
        // the reference is the base exactly: the trained policy with its adapter off against a fresh load of the base
        try (LlamaModel fresh = LlamaModel.load(base, DataType.FLOAT32, Device.cpu());
             LlamaModel policy = LlamaModel.load(base, DataType.FLOAT32, Device.cpu());
             NDManager nd = NDManager.newBaseManager()) {
            LoraAdapter adapter = Peft.load(out.resolve("adapter"), policy);
            adapter.attach(policy);
            adapter.setTraining(false);
            List<Prompts.Prompt> ps = List.of(new Prompts.Prompt(new long[] {256, 72, 105}, "", null, "a"),
                    new Prompts.Prompt(new long[] {256, 104}, "", null, "b"));
            List<Generator.Result> rs = List.of(new Generator.Result(new long[] {97, 98, 263}, "", "eos", null),
                    new Generator.Result(new long[] {99}, "", "length", null));
            Rollout ro = Rollout.of(ps, rs, 258);
            int[] rows = {0, 1};
            float[] want = PpoStage.forward(fresh, null, ro, rows, 1.0, nd).logProbs().toFloatArray();
            policy.setAdaptersEnabled(false);
            float[] ref = PpoStage.forward(policy, null, ro, rows, 1.0, nd).logProbs().toFloatArray();
            policy.setAdaptersEnabled(true);
            float[] now = PpoStage.forward(policy, null, ro, rows, 1.0, nd).logProbs().toFloatArray();
            assertArrayEquals(want, ref, "reference log-probs differ from the base model's");
            assertFalse(java.util.Arrays.equals(want, now), "the trained policy equals the base");
            adapter.close();
        }
    }

    @Test
    void gradientCheckpointingGivesTheSamePpoRun() throws Exception {
        String extra = "max_steps: 3\ndeterministic: true\n";
        String ppo = "  reward_functions: [exact_match, \"length_penalty:4\"]\n";
        for (String on : new String[] {"false", "true"}) {
            CliTest.Run run = CliTest.run("train", recipe("ckpt-" + on, extra, ppo).toString(), "--set", "gradient_checkpointing=" + on);
            assertEquals(0, run.code(), run.err());
        }
        for (String f : List.of("adapter/adapter_model.safetensors", "value_head.safetensors")) {
            Fixtures.assertSameTensors(tmp.resolve("runs/ckpt-false").resolve(f), tmp.resolve("runs/ckpt-true").resolve(f));
        }
        List<JsonNode> a = metrics(tmp.resolve("runs/ckpt-false"));
        List<JsonNode> b = metrics(tmp.resolve("runs/ckpt-true"));
        assertEquals(3, a.size());
        assertEquals(3, b.size());
        for (int i = 0; i < a.size(); i++) {
            for (String k : List.of("env/reward_mean", "objective/kl", "ppo/loss/policy", "ppo/loss/value")) {
                assertEquals(a.get(i).get(k).asDouble(), b.get(i).get(k).asDouble(), 1e-5, "step " + (i + 1) + " " + k);
            }
        }
    }

    @Test
    void killedPpoRunResumesBitIdentical() throws Exception {
        String extra = "max_steps: 8\nsave_steps: 2\ndeterministic: true\n";
        String ppo = "  reward_functions: [exact_match, \"length_penalty:4\"]\n  missing_eos_penalty: 0.5\n"
                + "  target_kl: 0.5\n  kl_horizon: 100\n  kl_estimator: k3\n";
        Path straight = recipe("straight", extra, ppo);
        assertEquals(0, CliTest.run("train", straight.toString()).code());
        Path killed = recipe("killed", extra, ppo);
        Path out = tmp.resolve("runs/killed");
        RlTrainRuns.killAndResume(killed, out, tmp.resolve("killed.log"));
        for (String f : List.of("adapter/adapter_model.safetensors", "value_head.safetensors")) {
            assertArrayEquals(Files.readAllBytes(tmp.resolve("runs/straight").resolve(f)), Files.readAllBytes(out.resolve(f)),
                    f + ": the resumed run differs from the uninterrupted one");
        }
        List<JsonNode> a = metrics(tmp.resolve("runs/straight"));
        List<JsonNode> b = metrics(out);
        assertEquals(8, b.size());
        for (int i = 0; i < 8; i++) {
            for (String k : List.of("env/reward_mean", "objective/kl", "objective/kl_coef", "ppo/loss/policy")) {
                assertEquals(a.get(i).get(k).asDouble(), b.get(i).get(k).asDouble(), 0.0, "step " + (i + 1) + " " + k);
            }
        }
        // the adaptive controller moved β
        assertNotEquals(a.get(0).get("objective/kl_coef").asDouble(), a.get(7).get("objective/kl_coef").asDouble());
    }

    @Test
    void rewardModelAndFunctionsAreSummed() throws Exception {
        classifierCheckpoint("rm", "\"num_labels\":1");
        Path r = recipe("withrm", "max_steps: 2\n", "  reward_model: rm\n");
        CliTest.Run run = CliTest.run("train", r.toString(), "--set", "ppo.sample_every=1");
        assertEquals(0, run.code(), run.err());
        assertTrue(run.out().contains("reward = reward model rm"), run.out());
        Path both = recipe("withrm2", "max_steps: 2\n", "  reward_model: rm\n  reward_functions: [\"length_penalty:1\"]\n");
        assertEquals(0, CliTest.run("train", both.toString(), "--set", "ppo.sample_every=1").code());
        ObjectMapper json = new ObjectMapper();
        List<String> a = Files.readAllLines(tmp.resolve("runs/withrm/samples.jsonl"));
        List<String> b = Files.readAllLines(tmp.resolve("runs/withrm2/samples.jsonl"));
        assertEquals(32, a.size());
        // step 1 is the same rollout in both runs: the reward is the model's score plus the length penalty
        for (int i = 0; i < 16; i++) {
            JsonNode x = json.readTree(a.get(i));
            JsonNode y = json.readTree(b.get(i));
            assertEquals(x.get("response").asText(), y.get("response").asText());
            double penalty = -Math.max(0, x.get("response").asText().length() - 1);
            assertEquals(x.get("reward").asDouble() + penalty, y.get("reward").asDouble(), 1e-5);
            assertNotEquals(0.0, x.get("reward").asDouble());
        }
    }

    /** TRL's sentiment set-up: a two-label classifier's probability of "positive" is the reward. */
    @Test
    void classifierProbabilityIsTheReward() throws Exception {
        classifierCheckpoint("cls", "\"id2label\":{\"0\":\"negative\",\"1\":\"positive\"}");
        Path r = recipe("withcls", "max_steps: 2\n", "  reward_classifier: cls\n  reward_classifier_label: positive\n");
        CliTest.Run run = CliTest.run("train", r.toString(), "--set", "ppo.sample_every=1");
        assertEquals(0, run.code(), run.err());
        assertTrue(run.out().contains("classifier cls p(positive)"), run.out());
        ObjectMapper json = new ObjectMapper();
        List<String> lines = Files.readAllLines(tmp.resolve("runs/withcls/samples.jsonl"));
        assertEquals(32, lines.size());
        // each logged reward is p(positive | response) of the classifier, computed here from its logits
        Set<Double> distinct = new HashSet<>();
        try (LlamaModel cls = LlamaModel.load(tmp.resolve("cls"), DataType.FLOAT32, Device.cpu());
             LoroTokenizer tok = LoroTokenizer.load(tmp.resolve("cls")); NDManager nd = cls.manager().newSubManager()) {
            for (String line : lines) {
                JsonNode sample = json.readTree(line);
                String response = sample.get("response").asText();
                double want = 0; // an empty response scores 0
                if (!response.isEmpty()) {
                    long[] ids = tok.encode(response, true);
                    NDArray x = nd.create(ids, new Shape(1, ids.length));
                    NDArray mask = nd.ones(new Shape(1, ids.length), DataType.INT64);
                    float[] logits = cls.classify(cls.hiddenStates(x, mask, null), mask).toFloatArray(); // (1, 2)
                    want = 1 / (1 + Math.exp(logits[0] - logits[1])); // softmax of label 1 ("positive") of two
                }
                assertEquals(want, sample.get("reward").asDouble(), 1e-5, "p(positive | " + response + ")");
                distinct.add(sample.get("reward").asDouble());
            }
        }
        assertTrue(distinct.size() > 1, "every response got the same reward: " + distinct);
        CliTest.assertOneLineError(CliTest.run("train", recipe("clslabel", "max_steps: 1\n",
                "  reward_classifier: cls\n  reward_classifier_label: neutral\n").toString()), "one of [negative, positive]");
        CliTest.assertOneLineError(CliTest.run("train", recipe("clsonly", "max_steps: 1\n",
                "  reward_functions: [exact_match]\n  reward_classifier_label: positive\n").toString()),
                "reward_classifier (the classifier checkpoint) is not");
    }

    @Test
    void badConfigurationsFailInOneLine() throws Exception {
        CliTest.assertOneLineError(CliTest.run("train", recipe("none", "max_steps: 1\n", "").toString()),
                "stage ppo needs a reward");
        CliTest.assertOneLineError(CliTest.run("train", recipe("unknown", "max_steps: 1\n",
                "  reward_functions: [exact_mach]\n").toString()), "unknown reward function 'exact_mach'");
        CliTest.assertOneLineError(CliTest.run("train", recipe("full", "max_steps: 1\n",
                "  reward_functions: [exact_match]\n").toString(), "--set", "adapter.type=none"),
                "lora only");
        CliTest.assertOneLineError(CliTest.run("train", recipe("split", "max_steps: 1\n",
                "  reward_functions: [exact_match]\n").toString(), "--set", "ppo.num_mini_batches=3"), "multiple of");
        Path noAnswer = tmp.resolve("noanswer.jsonl");
        Files.writeString(noAnswer, "{\"prompt\": \"hi\"}\n");
        CliTest.assertOneLineError(CliTest.run("train", recipe("answer", "max_steps: 1\n",
                "  reward_functions: [exact_match]\n").toString(), "--set", "datasets.0.path=noanswer.jsonl"), "need an 'answer'");
        CliTest.assertOneLineError(CliTest.run("train", recipe("rm", "max_steps: 1\n",
                "  reward_model: base\n").toString()), "ForSequenceClassification");
        CliTest.assertOneLineError(CliTest.run("train", recipe("type", "max_steps: 1\n",
                "  reward_functions: [exact_match]\n").toString(), "--set", "datasets.0.type=alpaca"), "not a prompt format");
    }
}
