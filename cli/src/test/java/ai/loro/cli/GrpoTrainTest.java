package ai.loro.cli;

import static org.junit.jupiter.api.Assertions.*;

import ai.djl.pytorch.jni.JniUtils;
import com.fasterxml.jackson.databind.JsonNode;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * GRPO end to end on the tiny random model of {@link PpoTrainTest} with a reward that is easy to
 * learn (the share of lower-case letters): the reward rises while the k3 KL to the base stays
 * finite and non-negative; every TRL metric is logged; a killed run resumes bit-identical; bad
 * configurations fail in one line.
 */
class GrpoTrainTest {
    @TempDir static Path tmp;
    static int threads;

    @BeforeAll
    static void setUp() throws Exception {
        ai.djl.engine.Engine.getInstance();
        threads = JniUtils.getNumThreads();
        JniUtils.setNumThreads(1);
        Fixtures.tinyBase(tmp);
        StringBuilder prompts = new StringBuilder();
        String[] topics = {"cats", "soup", "trains", "the moon", "paint", "shoes", "Java", "gifts"};
        for (int i = 0; i < 24; i++) {
            prompts.append(String.format("{\"prompt\": \"Tell me about %s (%d).\", \"answer\": \"%s\"}%n", topics[i % 8], i, topics[i % 8]));
        }
        Files.writeString(tmp.resolve("prompts.jsonl"), prompts.toString());
    }

    @AfterAll
    static void restoreThreads() {
        JniUtils.setNumThreads(threads);
    }

    static Path recipe(String name, String extra, String grpo) throws Exception {
        Path r = tmp.resolve(name + ".yaml");
        Files.writeString(r, RlTrainRuns.recipeHead("grpo", name, extra) + "grpo:\n  num_generations: 4\n  prompts_per_step: 4\n  max_new_tokens: 6\n  sample_every: 10\n" + grpo);
        return r;
    }

    @Test
    void rewardRisesWhileKlStaysBoundedAndNonNegative() throws Exception {
        Path r = recipe("learn", "max_steps: 30\n", "  reward_functions: [\"char_fraction:abcdefghijklmnopqrstuvwxyz\"]\n"
                + "  beta: 0.02\n  epsilon_high: 0.28\n  loss_type: grpo\n");
        CliTest.Run run = CliTest.run("train", r.toString(), "--set", "learning_rate=1.0e-2");
        assertEquals(0, run.code(), run.err());
        assertTrue(run.out().contains("samples at step 10") && run.out().contains("prompt prefixes shared"), run.out());
        Path out = tmp.resolve("runs/learn");
        List<JsonNode> m = RlTrainRuns.metrics(out);
        assertEquals(30, m.size());
        for (String k : List.of("reward", "reward_std", "rewards/char_fraction:abcdefghijklmnopqrstuvwxyz/mean", "kl", "entropy",
                "completions/mean_length", "completions/clipped_ratio", "clip_ratio/region_mean", "clip_ratio/low_mean",
                "clip_ratio/high_mean", "frac_reward_zero_std", "grpo/loss/total", "grad_norm", "lr", "time/generation_s",
                "time/scoring_s", "time/optimization_s")) {
            assertTrue(m.get(29).has(k) && !m.get(29).get(k).isNull(), k + " missing in " + m.get(29));
        }
        assertEquals(0.0, m.get(0).get("kl").asDouble(), 0.0, "the adapter starts as a zero delta: policy = reference");
        assertEquals(0.0, m.get(0).get("clip_ratio/region_mean").asDouble(), 0.0, "one update per batch: ratio 1");
        double before = PpoTrainTest.mean(m, "reward", 0, 5);
        double after = PpoTrainTest.mean(m, "reward", 25, 30);
        System.out.printf("GRPO reward %.4f -> %.4f, kl last %.4f%n", before, after, m.get(29).get("kl").asDouble());
        assertTrue(after > before + 0.2, "reward " + before + " -> " + after);
        double klMax = 0;
        for (JsonNode n : m) {
            double kl = n.get("kl").asDouble();
            assertTrue(Double.isFinite(kl) && kl >= 0, "k3 is never negative: " + n);
            klMax = Math.max(klMax, kl);
            // the group reward std is 0 exactly when every group had equal rewards
            assertEquals(n.get("frac_reward_zero_std").asDouble() == 1.0, n.get("reward_std").asDouble() == 0.0, n.toString());
        }
        assertTrue(klMax > 0 && klMax < 20, "kl (a per-token mean) moved and stayed bounded: max " + klMax); // measured: max 7.9 at lr 1e-2
        assertTrue(Files.readString(out.resolve("adapter/adapter_config.json")).contains("CAUSAL_LM"));
        assertEquals(16 * 4, Files.readAllLines(out.resolve("samples.jsonl")).size(), "steps 1, 10, 20, 30: 16 rows each");
    }

    @Test
    void sharedPrefixRunEqualsUnsharedRun() throws Exception {
        String grpo = "  reward_functions: [exact_match, \"regex:[a-z ]*\"]\n  reward_weights: [1.0, 0.5]\n";
        for (String share : new String[] {"true", "false"}) {
            CliTest.Run run = CliTest.run("train", recipe("share-" + share, "max_steps: 3\ndeterministic: true\n", grpo).toString(),
                    "--set", "grpo.share_prefix=" + share);
            assertEquals(0, run.code(), run.err());
        }
        List<JsonNode> a = RlTrainRuns.metrics(tmp.resolve("runs/share-true"));
        List<JsonNode> b = RlTrainRuns.metrics(tmp.resolve("runs/share-false"));
        for (int i = 0; i < 3; i++) {
            for (String k : List.of("reward", "rewards/regex:[a-z ]*/mean", "completions/mean_length", "grpo/loss/total")) {
                assertEquals(a.get(i).get(k).asDouble(), b.get(i).get(k).asDouble(), 1e-6, "step " + (i + 1) + " " + k);
            }
        }
    }

    @Test
    void killedGrpoRunResumesBitIdentical() throws Exception {
        String extra = "max_steps: 8\nsave_steps: 2\ndeterministic: true\n";
        String grpo = "  reward_functions: [\"char_fraction:aeiou\"]\n  beta: 0.05\n  num_iterations: 2\n  steps_per_generation: 2\n"
                + "  loss_type: dr_grpo\n  importance_sampling_level: sequence\n  advantage: rloo\n  scale_rewards: batch\n"
                ;
        assertEquals(0, CliTest.run("train", recipe("straight", extra, grpo).toString()).code());
        Path killed = recipe("killed", extra, grpo);
        Path out = tmp.resolve("runs/killed");
        RlTrainRuns.killAndResume(killed, out, tmp.resolve("killed.log"));
        assertArrayEquals(Files.readAllBytes(tmp.resolve("runs/straight/adapter/adapter_model.safetensors")),
                Files.readAllBytes(out.resolve("adapter/adapter_model.safetensors")), "the resumed run differs");
        List<JsonNode> a = RlTrainRuns.metrics(tmp.resolve("runs/straight"));
        List<JsonNode> b = RlTrainRuns.metrics(out);
        assertEquals(8, b.size());
        for (int i = 0; i < 8; i++) {
            for (String k : List.of("reward", "kl", "grpo/loss/total", "clip_ratio/region_mean")) {
                assertEquals(a.get(i).get(k).asDouble(), b.get(i).get(k).asDouble(), 0.0, "step " + (i + 1) + " " + k);
            }
        }
        assertTrue(a.stream().anyMatch(n -> n.get("kl").asDouble() > 0), "two iterations per batch move the policy off the reference");
    }

    @Test
    void badConfigurationsFailInOneLine() throws Exception {
        CliTest.assertOneLineError(CliTest.run("train", recipe("none", "max_steps: 1\n", "").toString()), "stage grpo needs a reward");
        CliTest.assertOneLineError(CliTest.run("train", recipe("unknown", "max_steps: 1\n",
                "  reward_functions: [exact_mach]\n").toString()), "unknown reward function 'exact_mach' in grpo.reward_functions");
        CliTest.assertOneLineError(CliTest.run("train", recipe("regex", "max_steps: 1\n",
                "  reward_functions: [\"regex:([a-z\"]\n").toString()), "not a valid regular expression");
        CliTest.assertOneLineError(CliTest.run("train", recipe("weights", "max_steps: 1\n",
                "  reward_functions: [exact_match]\n  reward_weights: [1, 2]\n").toString()), "grpo.reward_weights has 2 entries");
        CliTest.assertOneLineError(CliTest.run("train", recipe("full", "max_steps: 1\n",
                "  reward_functions: [exact_match]\n").toString(), "--set", "adapter.type=none"), "lora only");
        CliTest.assertOneLineError(CliTest.run("train", recipe("split", "max_steps: 1\n",
                "  reward_functions: [exact_match]\n").toString(), "--set", "grpo.steps_per_generation=3"), "multiple of");
        CliTest.assertOneLineError(CliTest.run("train", recipe("type", "max_steps: 1\n",
                "  reward_functions: [exact_match]\n").toString(), "--set", "datasets.0.type=alpaca"), "stage grpo needs");
    }
}
