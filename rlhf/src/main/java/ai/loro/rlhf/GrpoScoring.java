package ai.loro.rlhf;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import ai.djl.ndarray.types.Shape;
import ai.loro.core.loss.LossOps;
import ai.loro.core.model.LlamaModel;
import ai.loro.core.model.NoGrad;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * GRPO's scoring step (no gradient): the rewards of every completion ({@link GrpoRewards}), the
 * group advantages ({@link GrpoAdvantages}), the old log-probs when the update is off-policy
 * ({@code num_iterations} or {@code steps_per_generation} above 1), the reference log-probs when
 * β &gt; 0 (the policy with its adapter off), and the metrics under TRL's names: {@code reward},
 * {@code reward_std} (the mean of the groups' standard deviations), {@code rewards/<name>/mean|std},
 * {@code frac_reward_zero_std}, {@code completions/mean_length|min_length|max_length},
 * {@code completions/clipped_ratio} (share that hit max_new_tokens without EOS),
 * {@code completions/mean_terminated_length}.
 */
public record GrpoScoring(LlamaModel policy, GrpoRewards rewards, GrpoConfig cfg) {
    /** Whether the update needs the log-probs at generation time (its ratio is not 1 from the first update on). */
    public static boolean offPolicy(GrpoConfig cfg) {
        return cfg.numIterations() > 1 || cfg.stepsPerGeneration() > 1;
    }

    /** Scores a rollout of groups of {@code num_generations} consecutive rows. */
    public GrpoBatch score(Rollout ro, NDManager base) {
        int b = ro.batch();
        try (NoGrad ng = new NoGrad(); NDManager sm = base.newSubManager(); NDScope ignored = new NDScope()) {
            GrpoRewards.Scored scored = rewards.score(ro, sm);
            GrpoAdvantages.Result adv = GrpoAdvantages.compute(sm.create(scored.total()), cfg.numGenerations(), cfg.advantage(),
                    cfg.scaleRewards());
            Rollout used = cfg.maskTruncatedCompletions() ? withoutTruncated(ro) : ro;
            int[] all = Rollout.all(b);
            NDArray mask = sm.create(used.responseMask(), new Shape(b, ro.responseLen())); // (B, R)
            float[] old = null;
            if (offPolicy(cfg)) {
                old = LossOps.masked(PolicyForward.of(policy, null, used, all, cfg.temperature(), sm).logProbs(), mask).toFloatArray();
            }
            float[] ref = null;
            if (cfg.beta() > 0) {
                ref = LossOps.masked(policy.withAdaptersOff(() -> PolicyForward.of(policy, null, used, all, cfg.temperature(), sm)
                        .logProbs()), mask).toFloatArray();
            }
            float[] a = adv.advantages().toType(ai.djl.ndarray.types.DataType.FLOAT32, false).toFloatArray(); // (B)
            float[] perToken = new float[b * ro.responseLen()];
            long tokens = 0;
            for (int i = 0; i < b; i++) {
                for (int t = 0; t < ro.responseLen(); t++) {
                    float mk = used.responseMask()[i * ro.responseLen() + t];
                    perToken[i * ro.responseLen() + t] = mk * a[i];
                    tokens += mk > 0 ? 1 : 0;
                }
            }
            Map<String, Double> metrics = new LinkedHashMap<>();
            double mean = RolloutScoring.mean(scored.total());
            metrics.put("reward", mean);
            metrics.put("reward_std", adv.groupStd().mean().toType(ai.djl.ndarray.types.DataType.FLOAT64, false).getDouble());
            metrics.putAll(scored.metrics());
            metrics.put("frac_reward_zero_std", adv.fracZeroStd());
            lengths(ro, metrics);
            Trajectory t = new Trajectory(used, scored.total(), old, ref, null, null, null, perToken, null, metrics);
            return new GrpoBatch(t, a, tokens);
        }
    }

    /** The rollout with the response mask cleared on rows that did not end with EOS (TRL's mask_truncated_completions). */
    static Rollout withoutTruncated(Rollout ro) {
        float[] mask = ro.responseMask().clone();
        for (int i = 0; i < ro.batch(); i++) {
            if (!ro.endedWithEos(i)) {
                java.util.Arrays.fill(mask, i * ro.responseLen(), (i + 1) * ro.responseLen(), 0f);
            }
        }
        return new Rollout(ro.batch(), ro.promptLen(), ro.responseLen(), ro.ids(), ro.attention(), ro.responseIds(), mask,
                ro.prompts(), ro.responses());
    }

    /** Completion lengths (tokens, EOS included) and the share cut at the limit. */
    static void lengths(Rollout ro, Map<String, Double> metrics) {
        int b = ro.batch();
        int min = Integer.MAX_VALUE;
        int max = 0;
        int clipped = 0;
        long terminated = 0;
        for (int i = 0; i < b; i++) {
            int n = ro.responseTokens(i);
            min = Math.min(min, n);
            max = Math.max(max, n);
            if (ro.endedWithEos(i)) {
                terminated += n;
            } else {
                clipped++;
            }
        }
        metrics.put("completions/mean_length", ro.generatedTokens() / (double) b);
        metrics.put("completions/min_length", (double) min);
        metrics.put("completions/max_length", (double) max);
        metrics.put("completions/clipped_ratio", clipped / (double) b);
        metrics.put("completions/mean_terminated_length", clipped == b ? 0.0 : terminated / (double) (b - clipped));
    }
}
