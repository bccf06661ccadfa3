package ai.loro.rlhf;

import ai.djl.ndarray.NDManager;
import ai.loro.core.LoroException;
import ai.loro.core.generate.Generator;
import ai.loro.core.generate.SamplingParams;
import ai.loro.core.recipe.Recipe;
import ai.loro.core.train.RecipeTraining;
import ai.loro.core.train.Schedule;
import ai.loro.lora.RecipeAdapters;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;

/**
 * Group relative policy optimization (DeepSeekMath's GRPO, with TRL GRPOTrainer's names and its
 * 2025 variants): setup ({@link GrpoSetup}: prompts, rewards, policy = base + LoRA, no value head),
 * then per step {@code k}:
 * <ol>
 *   <li>generation ({@link GroupGenerator}): {@code prompts_per_step} prompts (position
 *       {@code k·P} of the endless shuffled stream), {@code num_generations} completions each,
 *       each prompt prefilled once and its KV cache copied to its G rows; seed = {@code stepSeed(seed, k)};
 *   <li>scoring ({@link GrpoScoring}, no gradient): weighted rewards, group advantages, old and
 *       reference log-probs when needed;
 *   <li>update ({@link PolicyUpdate} with {@link GrpoObjective}): {@code num_iterations} passes over
 *       {@code steps_per_generation} shuffled mini-batches, each one shared optimizer step;
 *   <li>metrics, samples, checkpoint ({@link GrpoCheckpoint}).
 * </ol>
 * The learning-rate schedule advances once per step. Resuming replays exactly: every draw is a
 * function of (seed, step).
 */
public final class GrpoStage {
    private GrpoStage() {}

    /** Outputs: the PEFT adapter and the merged policy (export.merged, else null). */
    public record Result(Path adapter, Path merged, int steps, Map<String, Double> lastMetrics) {}

    public static Result run(Recipe r, PrintStream log) {
        GrpoConfig cfg = r.block(GrpoConfig.BLOCK);
        validate(r);
        Path out = r.outputDir();
        RecipeTraining.prepareOutput(r);
        try (GrpoSetup s = new GrpoSetup(r, log)) {
            int perStep = cfg.promptsPerStep();
            int g = cfg.numGenerations();
            int steps = RlSteps.count(r, s.prompts.size(), perStep);
            Schedule schedule = RecipeTraining.schedule(r, steps);
            int saveSteps = r.saveSteps().orElse(Math.max(1, steps / 4));
            long seed = r.seed();
            int start = 0;
            Optional<GrpoCheckpoint.Resumed> resumed = GrpoCheckpoint.resume(out, s.trainable, s.optimizer);
            if (resumed.isPresent()) {
                start = resumed.get().step();
                log.printf("resuming from %s (step %d of %d)%n", resumed.get().dir(), start, steps);
            }
            GrpoRewards rewards = s.rewards(s.rewardModel == null ? new long[0] : PpoStage.rewardTail(r, s.tokenizer, log));
            describe(log, r, s.trainableCount(), steps, rewards);
            GrpoScoring scoring = new GrpoScoring(s.policy, rewards, cfg);
            Map<String, Double> last = Map.of();
            try (RlSteps.Logs logs = RlSteps.Logs.open(out, start, s.policy.manager().getDevice(), "grpo")) {
                NDManager base = logs.base();
                for (int k = start; k < steps; k++) {
                    int done = k + 1;
                    double lr = schedule.lr(k);
                    int stepSeed = RlSteps.seed(seed, k);
                    List<Prompts.Prompt> prompts = s.prompts.batch(k, perStep);
                    long t0 = System.nanoTime();
                    List<Generator.Result> completions = s.generator.generate(prompts.stream().map(Prompts.Prompt::ids).toList(), g,
                            sampling(cfg, stepSeed));
                    long t1 = System.nanoTime();
                    Rollout ro = Rollout.of(repeated(prompts, g), completions, s.padId);
                    GrpoBatch batch = scoring.score(ro, base);
                    long t2 = System.nanoTime();
                    PolicyUpdate update = new PolicyUpdate(s.optimizer, new GrpoObjective(s.policy, cfg, batch),
                            cfg.numIterations(), cfg.stepsPerGeneration(), "grpo");
                    PolicyUpdate.Stats u = update.run(batch.trajectory(), stepSeed, lr, done, base);
                    long t3 = System.nanoTime();
                    Map<String, Double> m = new LinkedHashMap<>(batch.trajectory().metrics());
                    m.putAll(u.means());
                    RlSteps.putTimes(m, t0, t1, t2, t3);
                    logs.write(done, lr, m);
                    last = m;
                    if (cfg.sampleEvery() > 0 && (done % cfg.sampleEvery() == 0 || done == 1)) {
                        PpoStage.printSamples(log, done, batch.trajectory(), logs.samples());
                    }
                    if (RlSteps.due(done, saveSteps, steps)) {
                        GrpoCheckpoint.save(out, done, seed, steps, (long) done * perStep, s.trainable, s.optimizer,
                                r.saveTotalLimit().orElse(0));
                    }
                    if (RlSteps.due(done, r.loggingSteps(), steps)) {
                        logStep(log, done, steps, m);
                    }
                }
            }
            RecipeAdapters.Saved saved = RecipeAdapters.saveCausalLm(r, s.policy, s.adapter, log);
            log.printf("done: %d GRPO steps; %s%n", steps, saved.describe());
            return new Result(saved.adapter(), saved.merged(), steps, last);
        }
    }

    /** Each prompt {@code g} times in a row: the rollout's rows, group i at rows i·g … i·g + g − 1. */
    static List<Prompts.Prompt> repeated(List<Prompts.Prompt> prompts, int g) {
        List<Prompts.Prompt> out = new ArrayList<>(prompts.size() * g);
        for (Prompts.Prompt p : prompts) {
            for (int j = 0; j < g; j++) {
                out.add(p);
            }
        }
        return out;
    }

    private static SamplingParams sampling(GrpoConfig cfg, int stepSeed) {
        return new SamplingParams(cfg.maxNewTokens(), cfg.temperature(), cfg.topK(), cfg.topP(), stepSeed, List.of(), true);
    }

    private static void describe(PrintStream log, Recipe r, long trainable, int steps, GrpoRewards rewards) {
        GrpoConfig cfg = r.block(GrpoConfig.BLOCK);
        List<String> rs = new ArrayList<>();
        rewards.sources().forEach(x -> rs.add(x.weight() == 1.0 ? x.name() : x.weight() + "·" + x.name()));
        log.printf(Locale.ROOT, "GRPO on %s: %,d trainable parameters (LoRA r=%d), reward = %s; %d steps of %d prompts x %d"
                        + " completions, loss %s, advantage %s scaled by %s, %s-level ratio, clip [%.3g, %.3g], beta %s,"
                        + " %d iteration(s) x %d mini-batch(es)%s%n",
                r.baseModel().getFileName(), trainable, r.adapter().r(), String.join(" + ", rs), steps, cfg.promptsPerStep(),
                cfg.numGenerations(), cfg.lossType(), cfg.advantage(), cfg.scaleRewards(), cfg.importanceSamplingLevel(),
                1 - cfg.epsilon(), 1 + cfg.upperEpsilon(), cfg.beta() > 0 ? cfg.beta() + " (k3 to the base, adapter off)" : "0 (no reference)",
                cfg.numIterations(), cfg.stepsPerGeneration(), cfg.sharePrefix() ? ", prompt prefixes shared" : "");
        if (r.adapter().dropout() > 0) {
            log.println("note: adapter.dropout is not used by GRPO (dropout is off, so the first update's ratio is 1)");
        }
    }

    private static void logStep(PrintStream log, int done, int steps, Map<String, Double> m) {
        log.printf(Locale.ROOT, "step %d/%d: reward %.4f (group std %.4f, zero-std groups %.2f), kl %s, entropy %.4f, clipped %.3f,"
                        + " length %.1f; %.2fs gen + %.2fs score + %.2fs opt%n", done, steps, m.get("reward"), m.get("reward_std"),
                m.get("frac_reward_zero_std"), m.containsKey("kl") ? String.format(Locale.ROOT, "%.4f", m.get("kl")) : "-",
                m.get("entropy"), m.get("clip_ratio/region_mean"), m.get("completions/mean_length"), m.get("time/generation_s"),
                m.get("time/scoring_s"), m.get("time/optimization_s"));
    }

    /** Recipe checks the schema cannot express; each a one-line LoroException. */
    static void validate(Recipe r) {
        GrpoConfig cfg = r.block(GrpoConfig.BLOCK);
        if (cfg.rewardModel().isEmpty() && cfg.rewardFunctions().isEmpty() && cfg.rewardClassifier().isEmpty()) {
            throw new LoroException("stage grpo needs a reward: set grpo.reward_functions (e.g. [exact_match] or"
                    + " [\"regex:^[a-h]{4}$\"]), grpo.reward_model (a reward-stage checkpoint) and/or grpo.reward_classifier");
        }
        if (cfg.rewardClassifierLabel().isPresent() && cfg.rewardClassifier().isEmpty()) {
            throw new LoroException("grpo.reward_classifier_label is set but grpo.reward_classifier (the classifier checkpoint) is not");
        }
        int sources = (cfg.rewardModel().isPresent() ? 1 : 0) + cfg.rewardFunctions().size() + (cfg.rewardClassifier().isPresent() ? 1 : 0);
        if (!cfg.rewardWeights().isEmpty() && cfg.rewardWeights().size() != sources) {
            throw new LoroException("grpo.reward_weights has " + cfg.rewardWeights().size() + " entries for " + sources
                    + " rewards (one per reward, in the order reward_model, reward_functions..., reward_classifier)");
        }
        if (r.adapter().type() != Recipe.AdapterType.LORA) {
            throw new LoroException("stage grpo supports adapter.type lora only (the reference model is the base with the"
                    + " adapter switched off); full fine-tuning (type none) is not available for GRPO yet");
        }
        int rows = cfg.promptsPerStep() * cfg.numGenerations();
        if (rows % cfg.stepsPerGeneration() != 0) {
            throw new LoroException("grpo.prompts_per_step x grpo.num_generations = " + rows + " completions must be a multiple of"
                    + " grpo.steps_per_generation " + cfg.stepsPerGeneration());
        }
        cfg.rewardFunctions().forEach(f -> RewardFunction.of(f, "grpo.reward_functions"));
    }
}
