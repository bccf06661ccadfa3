package ai.loro.rlhf;

import ai.djl.ndarray.NDManager;
import ai.loro.core.LoroException;
import ai.loro.core.generate.SamplingParams;
import ai.loro.core.model.LlamaModel;
import ai.loro.core.recipe.Recipe;
import ai.loro.core.tokenizer.LoroTokenizer;
import ai.loro.core.train.MetricsLog;
import ai.loro.core.train.RecipeTraining;
import ai.loro.core.train.Schedule;
import ai.loro.datasets.Templates;
import ai.loro.datasets.TurnBoundaries;
import ai.loro.lora.RecipeAdapters;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;

/**
 * PPO-based RLHF with TRL's PPOTrainer semantics: setup ({@link PpoSetup}: prompts, policy = base +
 * LoRA, reference = the same model with the adapter switched off, a value head on the policy's
 * hidden states, rewards from a reward model and/or {@link RewardFunction}s), train, save (PEFT
 * adapter + value head). Each PPO step {@code k}:
 * <ol>
 *   <li>rollout ({@link Rollout#generate}): {@code rollout_batch_size} prompts (position {@code k·B}
 *       of the endless shuffled stream), sampled with the KV-cache generator, seed =
 *       {@code stepSeed(seed, k)};
 *   <li>scoring ({@link RolloutScoring} → {@link Trajectory}, no gradient): policy log-probs and
 *       values, reference log-probs (adapter off), rewards, per-token KL (k1, k2 or k3) × β, the score
 *       at each response's last token ({@link Rewards#withKl}), GAE, whitened advantages. Log-probs
 *       are of the logits divided by {@code temperature + 1e-7}, the distribution that was sampled
 *       (with top_k/top_p the sampled distribution is truncated, as in TRL);
 *   <li>update ({@link PolicyUpdate} with {@link PpoObjective}): {@code ppo_epochs} passes over
 *       {@code num_mini_batches} shuffled mini-batches, each: forward with gradient,
 *       {@code PpoLoss.policy + vf_coef·PpoLoss.value − ent_coef·entropy}, backward, and the shared
 *       optimizer step (global-norm clip, fp16 unscale/overflow skip, AdamW);
 *   <li>the KL controller update, metrics, samples, checkpoint ({@link PpoCheckpoint}).
 * </ol>
 * LoRA dropout is off throughout (TRL disables dropout for PPO), so the first epoch's ratio is 1.
 * The learning-rate schedule advances once per PPO step (as TRL's). Resuming replays exactly:
 * every random draw is a function of (seed, step).
 */
public final class PpoStage {
    private PpoStage() {}

    /** Outputs: the PEFT adapter, the merged policy (export.merged, else null), the value head. */
    public record Result(Path adapter, Path merged, Path valueHead, int steps, Map<String, Double> lastMetrics) {}

    public static Result run(Recipe r, PrintStream log) {
        PpoConfig cfg = r.block(PpoConfig.BLOCK);
        validate(r);
        Path out = r.outputDir();
        RecipeTraining.prepareOutput(r); // output_dir, recipe.yaml; deterministic: true = one libtorch thread
        try (PpoSetup s = new PpoSetup(r, log)) {
            int batch = cfg.rolloutBatchSize();
            int steps = RlSteps.count(r, s.prompts.size(), batch);
            Schedule schedule = RecipeTraining.schedule(r, steps); // advanced once per PPO step, as TRL's
            KlController kl = cfg.targetKl().isPresent()
                    ? KlController.adaptive(cfg.klCoef(), cfg.targetKl().getAsDouble(), cfg.klHorizon())
                    : KlController.fixed(cfg.klCoef());
            int saveSteps = r.saveSteps().orElse(Math.max(1, steps / 4));
            long seed = r.seed();
            int start = 0;
            Optional<PpoCheckpoint.Resumed> resumed = PpoCheckpoint.resume(out, s.trainable, s.optimizer);
            if (resumed.isPresent()) {
                start = resumed.get().step();
                kl = resumed.get().kl();
                log.printf("resuming from %s (step %d of %d)%n", resumed.get().dir(), start, steps);
            }
            describe(log, r, s.trainableCount(), steps);
            RolloutScoring scoring = new RolloutScoring(s.policy, s.valueHead,
                    s.rewards(s.rewardModel == null ? new long[0] : rewardTail(r, s.tokenizer, log)), RolloutScoring.Options.of(cfg));
            PolicyUpdate update = new PolicyUpdate(s.optimizer, new PpoObjective(s.policy, s.valueHead, cfg),
                    cfg.ppoEpochs(), cfg.numMiniBatches(), "ppo");
            Map<String, Double> last = Map.of();
            try (RlSteps.Logs logs = RlSteps.Logs.open(out, start, s.policy.manager().getDevice(), "ppo")) {
                NDManager base = logs.base();
                for (int k = start; k < steps; k++) {
                    int done = k + 1;
                    double lr = schedule.lr(k);
                    double coef = kl.value();
                    int stepSeed = RlSteps.seed(seed, k);
                    long t0 = System.nanoTime();
                    Rollout ro = Rollout.generate(s.generator, s.prompts.batch(k, batch), sampling(cfg, stepSeed), s.padId);
                    long t1 = System.nanoTime();
                    Trajectory t = scoring.score(ro, coef, base);
                    long t2 = System.nanoTime();
                    PolicyUpdate.Stats u = update.run(t, stepSeed, lr, done, base);
                    long t3 = System.nanoTime();
                    Map<String, Double> m = stepMetrics(t, u, t0, t1, t2, t3);
                    kl.update(m.get("objective/kl"), batch);
                    logs.write(done, lr, m);
                    last = m;
                    if (cfg.sampleEvery() > 0 && (done % cfg.sampleEvery() == 0 || done == 1)) {
                        printSamples(log, done, t, logs.samples());
                    }
                    if (RlSteps.due(done, saveSteps, steps)) {
                        PpoCheckpoint.save(out, done, seed, steps, (long) done * batch, s.trainable, s.optimizer, kl,
                                r.saveTotalLimit().orElse(0));
                    }
                    if (RlSteps.due(done, r.loggingSteps(), steps)) {
                        logStep(log, done, steps, coef, m);
                    }
                }
            }
            RecipeAdapters.Saved saved = RecipeAdapters.saveCausalLm(r, s.policy, s.adapter, log); // adapter (+ merged)
            Path headFile = out.resolve(ValueHead.FILE);
            s.valueHead.save(headFile);
            log.printf("done: %d PPO steps; %s, value head %s%n", steps, saved.describe(), headFile);
            return new Result(saved.adapter(), saved.merged(), headFile, steps, last);
        }
    }

    /**
     * Response log-probs (and values, when a head is given) of {@code rows} of a rollout under
     * {@code model} as it is now: {@link PolicyForward#of}, the pass PPO scores and trains with.
     */
    public static PolicyForward forward(LlamaModel model, ValueHead head, Rollout ro, int[] rows, double temperature, NDManager m) {
        return PolicyForward.of(model, head, ro, rows, temperature, m);
    }

    private static SamplingParams sampling(PpoConfig cfg, int stepSeed) {
        return new SamplingParams(cfg.maxNewTokens(), cfg.temperature(), cfg.topK(), cfg.topP(), stepSeed, List.of(), true);
    }

    /** A step's metrics in logging order: the scoring's, the update's means, then the timings. */
    private static Map<String, Double> stepMetrics(Trajectory t, PolicyUpdate.Stats u, long t0, long t1, long t2, long t3) {
        Map<String, Double> m = new LinkedHashMap<>(t.metrics());
        m.putAll(u.means());
        RlSteps.putTimes(m, t0, t1, t2, t3);
        m.put("time/rollout_tokens_per_s", t.rollout().generatedTokens() / m.get("time/generation_s"));
        return m;
    }

    private static void describe(PrintStream log, Recipe r, long trainable, int steps) {
        PpoConfig cfg = r.block(PpoConfig.BLOCK);
        log.printf("PPO on %s: %,d trainable parameters (LoRA r=%d + value head), reward = %s; %d steps of %d prompts,"
                        + " %d epochs x %d mini-batches, kl %s %s%n",
                r.baseModel().getFileName(), trainable, r.adapter().r(), rewardSources(cfg), steps, cfg.rolloutBatchSize(),
                cfg.ppoEpochs(), cfg.numMiniBatches(), cfg.klEstimator().yamlName(),
                cfg.targetKl().isPresent() ? "adaptive (target " + cfg.targetKl().getAsDouble() + ")" : "fixed " + cfg.klCoef());
        if (r.adapter().dropout() > 0) {
            log.println("note: adapter.dropout is not used by PPO (dropout is off, as in TRL, so the first epoch's ratio is 1)");
        }
    }

    private static void logStep(PrintStream log, int done, int steps, double coef, Map<String, Double> m) {
        log.printf(Locale.ROOT, "step %d/%d: reward %.4f ± %.4f, kl %.4f (coef %.4g), policy loss %.4f,"
                        + " value loss %.4f, clipfrac %.3f; %.2fs gen + %.2fs score + %.2fs opt%n", done, steps,
                m.get("env/reward_mean"), m.get("env/reward_std"), m.get("objective/kl"), coef, m.get("ppo/loss/policy"),
                m.get("ppo/loss/value"), m.get("ppo/policy/clipfrac"), m.get("time/generation_s"), m.get("time/scoring_s"),
                m.get("time/optimization_s"));
    }

    /** Recipe checks the schema cannot express; each a one-line LoroException. */
    static void validate(Recipe r) {
        PpoConfig cfg = r.block(PpoConfig.BLOCK);
        if (cfg.rewardModel().isEmpty() && cfg.rewardFunctions().isEmpty() && cfg.rewardClassifier().isEmpty()) {
            throw new LoroException("stage ppo needs a reward: set ppo.reward_model (a reward-stage checkpoint),"
                    + " ppo.reward_functions (e.g. [exact_match]) and/or ppo.reward_classifier (+ reward_classifier_label)");
        }
        if (cfg.rewardClassifierLabel().isPresent() && cfg.rewardClassifier().isEmpty()) {
            throw new LoroException("ppo.reward_classifier_label is set but ppo.reward_classifier (the classifier checkpoint) is not");
        }
        if (r.adapter().type() != Recipe.AdapterType.LORA) {
            throw new LoroException("stage ppo supports adapter.type lora only (the reference model is the base with the"
                    + " adapter switched off); full fine-tuning (type none) is not available for PPO yet");
        }
        if (cfg.rolloutBatchSize() % cfg.numMiniBatches() != 0) {
            throw new LoroException("ppo.rollout_batch_size " + cfg.rolloutBatchSize() + " must be a multiple of"
                    + " ppo.num_mini_batches " + cfg.numMiniBatches());
        }
        if (cfg.rolloutBatchSize() < 2) {
            throw new LoroException("ppo.rollout_batch_size must be at least 2 (advantages are whitened over the batch)");
        }
        cfg.rewardFunctions().forEach(RewardFunction::of);
    }

    private static String rewardSources(PpoConfig cfg) {
        List<String> s = new ArrayList<>();
        cfg.rewardModel().ifPresent(p -> s.add("reward model " + p.getFileName()));
        s.addAll(cfg.rewardFunctions());
        cfg.rewardClassifier().ifPresent(p -> s.add("classifier " + p.getFileName() + " p(" + cfg.rewardClassifierLabel().orElse("?") + ")"));
        cfg.missingEosPenalty().ifPresent(p -> s.add("missing_eos_penalty " + p));
        return String.join(" + ", s);
    }

    /**
     * Token ids the reward model sees after a rollout's EOS: what the chat template renders after an
     * assistant turn's end-of-turn marker and the reward stage kept in training (ChatML's newline),
     * so the score is read at the token the reward model was trained to score.
     */
    static long[] rewardTail(Recipe r, LoroTokenizer tok, PrintStream log) {
        long[] tail = TurnBoundaries.finalTurnTailIds(Templates.resolve(r.chatTemplateFor(r.datasets().get(0)), tok), tok);
        if (tail.length > 0) {
            log.printf("reward model: finished replies are scored with the template's %s after EOS, as in reward training%n",
                    MetricsLog.JSON.valueToTree(tok.decode(tail, false)));
        }
        return tail;
    }

    /** The first rows of a step as a table, every row into samples.jsonl (PPO and GRPO). */
    static void printSamples(PrintStream log, int step, Trajectory t, MetricsLog samples) {
        Rollout ro = t.rollout();
        log.printf("samples at step %d:%n  %-32s | %-40s | %s%n", step, "prompt (end)", "response (start)", "reward");
        for (int i = 0; i < ro.batch(); i++) {
            Prompts.Prompt p = ro.prompts().get(i);
            String response = ro.responses().get(i).text();
            if (i < 4) {
                log.printf(Locale.ROOT, "  %-32s | %-40s | %.4f%n", clip(tail(p.text(), 32)), clip(head(response, 40)), t.scores()[i]);
            }
            ObjectNode line = MetricsLog.JSON.createObjectNode();
            line.put("step", step);
            line.put("prompt", p.text());
            line.put("response", response);
            if (p.answer() != null) {
                line.put("answer", p.answer());
            }
            MetricsLog.put(line, "reward", t.scores()[i]);
            line.put("finish_reason", ro.responses().get(i).finishReason());
            samples.write(line);
        }
    }

    private static String tail(String s, int n) {
        return s.length() <= n ? s : "…" + s.substring(s.length() - n + 1);
    }

    private static String head(String s, int n) {
        return s.length() <= n ? s : s.substring(0, n - 1) + "…";
    }

    private static String clip(String s) {
        return s.replace("\n", "⏎").replace("\r", "");
    }
}
