package ai.loro.rlhf;

import ai.djl.ndarray.NDArray;
import ai.loro.core.LoroException;
import ai.loro.core.loss.LossOps;
import ai.loro.core.recipe.RecipeEnum;

/**
 * Per-token estimators of KL(π ‖ π_ref) from tokens sampled from π (Schulman, "Approximating KL
 * divergence"), with log r = ref − logp:
 * <ul>
 *   <li>k1 = logp − ref = −log r: unbiased, can be negative per token (TRL's "kl" / "k1")
 *   <li>k2 = ½ (log r)²: biased, ≥ 0 (TRL's "mse")
 *   <li>k3 = (r − 1) − log r: unbiased, always ≥ 0 (TRL's "k3"); rounding is clamped at 0
 * </ul>
 */
public final class KlPenalty {
    private KlPenalty() {}

    /** The estimators; the recipe's {@code ppo.kl_estimator} allows exactly these. */
    public enum Estimator implements RecipeEnum {
        K1, K2, K3;

        /** By name (k1, k2, k3); anything else is a one-line LoroException. */
        public static Estimator parse(String name) {
            for (Estimator e : values()) {
                if (e.yamlName().equals(name)) {
                    return e;
                }
            }
            throw new LoroException("unknown KL estimator '" + name + "'; allowed: " + java.util.Arrays.stream(values())
                    .map(Estimator::yamlName).collect(java.util.stream.Collectors.joining(", ")));
        }
    }

    /** (B, T), (B, T) → (B, T). */
    public static NDArray perToken(NDArray logProbs, NDArray refLogProbs, Estimator estimator) {
        NDArray logr = logProbs.sub(refLogProbs).neg(); // (B, T) log r, on the policy's manager
        return switch (estimator) {
            case K1 -> logr.neg();
            case K2 -> logr.square().mul(0.5);
            case K3 -> logr.exp().sub(1).sub(logr).maximum(0);
        };
    }

    /** As {@link #perToken(NDArray, NDArray, Estimator)} with the estimator by name. */
    public static NDArray perToken(NDArray logProbs, NDArray refLogProbs, String estimator) {
        return perToken(logProbs, refLogProbs, Estimator.parse(estimator));
    }

    /** Σ over the valid tokens of each row: (B, T), (B, T) → (B) (a sequence's KL, TRL's objective/kl per sample). */
    public static NDArray sequence(NDArray perToken, NDArray mask) {
        return LossOps.maskedSum(perToken, mask, 1);
    }
}
