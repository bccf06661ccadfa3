package ai.loro.rlhf;

import ai.djl.ndarray.NDArray;

/**
 * How a scored rollout's per-token advantages are estimated: PPO's GAE over a value head
 * ({@link #gae}); an estimator without a critic (e.g. GRPO's group-normalised scores) returns no
 * returns.
 */
@FunctionalInterface
public interface AdvantageEstimator {
    /**
     * @param advantages (B, R), 0 where the mask is 0
     * @param returns (B, R) the value head's regression targets, or null without a critic
     */
    record Result(NDArray advantages, NDArray returns) {}

    /**
     * @param rewards (B, R) per-token rewards ({@link Rewards#withKl}: −β·KL, plus the score at the last token)
     * @param values (B, R) the value head's estimates, 0 where masked; null without a value head
     * @param mask (B, R) response tokens
     */
    Result estimate(NDArray rewards, NDArray values, NDArray mask);

    /**
     * TRL's PPO: the rewards whitened with their mean kept (when {@code whitenRewards}), GAE
     * ({@link Gae}), the advantages whitened ({@link Whiten}); returns are GAE's, unwhitened.
     */
    static AdvantageEstimator gae(double gamma, double lambda, boolean whitenRewards) {
        return (rewards, values, mask) -> {
            if (values == null) {
                throw new IllegalArgumentException("GAE needs the value head's values");
            }
            NDArray r = whitenRewards ? Whiten.whiten(rewards, mask, false) : rewards;
            Gae.Result g = Gae.advantages(r, values, mask, gamma, lambda);
            return new Result(Whiten.whiten(g.advantages(), mask, true), g.returns());
        };
    }
}
