package ai.loro.rlhf;

import ai.djl.ndarray.NDArray;
import ai.loro.core.LoroException;
import ai.loro.core.loss.LossOps;

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

    /** (B, T), (B, T) → (B, T). Unknown estimator names are a one-line LoroException. */
    public static NDArray perToken(NDArray logProbs, NDArray refLogProbs, String estimator) {
        NDArray logr = logProbs.sub(refLogProbs).neg(); // (B, T) log r, on the policy's manager
        return switch (estimator) {
            case "k1" -> logr.neg();
            case "k2" -> logr.square().mul(0.5);
            case "k3" -> logr.exp().sub(1).sub(logr).maximum(0);
            default -> throw new LoroException("unknown KL estimator '" + estimator + "'; allowed: k1, k2, k3");
        };
    }

    /** Σ over the valid tokens of each row: (B, T), (B, T) → (B) (a sequence's KL, TRL's objective/kl per sample). */
    public static NDArray sequence(NDArray perToken, NDArray mask) {
        return LossOps.maskedSum(perToken, mask, 1);
    }
}
