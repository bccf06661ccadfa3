package ai.loro.rlhf;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import ai.djl.ndarray.types.Shape;
import ai.loro.core.loss.LossOps;
import ai.loro.core.model.LlamaModel;
import ai.loro.core.recipe.Recipe;
import ai.loro.core.model.NoGrad;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.OptionalDouble;

/**
 * The scoring step (no gradient) that turns a rollout into a {@link Trajectory}: the policy's
 * log-probs (and values, with a value head), the reference's log-probs (the same model, adapter
 * off), the rewards' summed scores less the missing-EOS penalty, the per-token KL (k1, k2 or k3),
 * per-token rewards with −β·KL ({@link Rewards#withKl}) and the advantages of an
 * {@link AdvantageEstimator}.
 */
public final class RolloutScoring {
    /**
     * @param temperature the sampling temperature (log-probs are of the logits divided by it, + 1e-7)
     * @param klEstimator the per-token KL estimator
     * @param missingEosPenalty subtracted from the score of a response that did not end with EOS
     */
    public record Options(double temperature, KlPenalty.Estimator klEstimator, OptionalDouble missingEosPenalty,
                          AdvantageEstimator advantages) {
        /** The {@code ppo} block's settings: GAE with its gamma, lam and whiten_rewards. */
        public static Options of(PpoConfig cfg) {
            return new Options(cfg.temperature(), cfg.klEstimator(), cfg.missingEosPenalty(),
                    AdvantageEstimator.gae(cfg.gamma(), cfg.lam(), cfg.whitenRewards()));
        }
    }

    private final LlamaModel policy;
    private final ValueHead head;
    private final List<RolloutReward> rewards;
    private final Options options;

    /** @param head the value head, or null (then the estimator must not need values) */
    public RolloutScoring(LlamaModel policy, ValueHead head, List<RolloutReward> rewards, Options options) {
        this.policy = policy;
        this.head = head;
        this.rewards = List.copyOf(rewards);
        this.options = options;
    }

    /** Scores {@code ro} with KL coefficient {@code klCoef} (β); temporary arrays live in a sub-manager of {@code base}. */
    public Trajectory score(Rollout ro, double klCoef, NDManager base) {
        int b = ro.batch();
        try (NoGrad ng = new NoGrad(); NDManager sm = base.newSubManager(); NDScope ignored = new NDScope()) {
            int[] all = Rollout.all(b);
            PolicyForward now = PolicyForward.of(policy, head, ro, all, options.temperature(), sm);
            NDArray lp = now.logProbs(); // (B, R)
            NDArray ref = referenceLogProbs(ro, all, sm); // (B, R)
            NDArray mask = sm.create(ro.responseMask(), new Shape(b, ro.responseLen())); // (B, R)
            double[] scores = scores(ro, sm);
            NDArray klTok = LossOps.masked(KlPenalty.perToken(lp, ref, options.klEstimator()), mask); // (B, R)
            NDArray seqKl = KlPenalty.sequence(klTok, mask); // (B)
            NDArray perToken = Rewards.withKl(sm.create(scores), klTok, klCoef, mask); // (B, R)
            NDArray values = now.values() == null ? null : LossOps.masked(now.values(), mask); // (B, R)
            AdvantageEstimator.Result adv = options.advantages().estimate(perToken, values, mask);
            Map<String, Double> metrics = new LinkedHashMap<>();
            double meanKl = LossOps.scalar(seqKl.mean());
            double nonScore = -klCoef * meanKl;
            double meanScore = mean(scores);
            metrics.put("objective/kl", meanKl);
            metrics.put("objective/entropy", LossOps.scalar(LossOps.maskedSum(lp.neg(), mask, 1).mean()));
            metrics.put("objective/kl_coef", klCoef);
            metrics.put("objective/non_score_reward", nonScore);
            metrics.put("objective/rlhf_reward", meanScore + nonScore);
            metrics.put("env/reward_mean", meanScore);
            metrics.put("env/reward_std", std(scores, meanScore));
            if (adv.returns() != null) {
                metrics.put("ppo/returns/mean", LossOps.scalar(LossOps.maskedMean(adv.returns(), mask)));
            }
            if (values != null) {
                metrics.put("ppo/val/mean", LossOps.scalar(LossOps.maskedMean(values, mask)));
            }
            metrics.put("val/num_eos_tokens", (double) eosCount(ro));
            metrics.put("ppo/mean_response_length", ro.generatedTokens() / (double) b);
            return new Trajectory(ro, scores, LossOps.masked(lp, mask).toFloatArray(), LossOps.masked(ref, mask).toFloatArray(),
                    values == null ? null : values.toFloatArray(), klTok.toFloatArray(), perToken.toFloatArray(),
                    adv.advantages().toFloatArray(), adv.returns() == null ? null : adv.returns().toFloatArray(), metrics);
        }
    }

    /** The reference model's log-probs: the policy with its adapters switched off for one forward pass. */
    private NDArray referenceLogProbs(Rollout ro, int[] rows, NDManager m) {
        return policy.withAdaptersOff(() -> PolicyForward.of(policy, null, ro, rows, options.temperature(), m).logProbs());
    }

    /** (B) the rewards summed per row, less the missing-EOS penalty where a response was cut off. */
    private double[] scores(Rollout ro, NDManager m) {
        double[] scores = RolloutReward.sum(rewards, ro, m);
        if (options.missingEosPenalty().isEmpty()) {
            return scores;
        }
        boolean[] ended = new boolean[ro.batch()];
        for (int i = 0; i < ended.length; i++) {
            ended[i] = ro.endedWithEos(i);
        }
        return Rewards.penalizeMissingEos(m.create(scores), m.create(ended), options.missingEosPenalty().getAsDouble())
                .toDoubleArray();
    }

    private static int eosCount(Rollout ro) {
        int n = 0;
        for (int i = 0; i < ro.batch(); i++) {
            n += ro.endedWithEos(i) ? 1 : 0;
        }
        return n;
    }

    /** The mean as {@code Σ s_i / n}, each term divided first (the order the logged means were computed in). */
    static double mean(double[] s) {
        double mean = 0;
        for (double x : s) {
            mean += x / s.length;
        }
        return mean;
    }

    /** The sample standard deviation {@code sqrt(Σ (s_i − mean)² / (n − 1))} (n − 1 floored at 1). */
    static double std(double[] s, double mean) {
        double var = 0;
        for (double x : s) {
            var += (x - mean) * (x - mean) / Math.max(1, s.length - 1);
        }
        return Math.sqrt(var);
    }
}
