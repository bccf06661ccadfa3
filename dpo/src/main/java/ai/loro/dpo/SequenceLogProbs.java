package ai.loro.dpo;

import ai.djl.ndarray.NDArray;
import ai.loro.core.loss.LossOps;

/**
 * Per-sequence log-probabilities from next-token log-probs. Masked entries may hold anything
 * (padding, the prompt, −inf): they are replaced by 0, not multiplied.
 */
public final class SequenceLogProbs {
    private SequenceLogProbs() {}

    /** {@code Σ_t lp·m}: (B, T-1) and (B, T-1) → (B); TRL's summed completion log-prob. */
    public static NDArray sum(NDArray tokenLogProbs, NDArray lossMask) {
        return LossOps.maskedSum(tokenLogProbs, lossMask, 1);
    }

    /** {@code Σ_t lp·m / Σ_t m}: (B, T-1) → (B), the average log-prob per token (IPO); a row with no token gives 0. */
    public static NDArray mean(NDArray tokenLogProbs, NDArray lossMask) {
        NDArray count = LossOps.maskAs(lossMask, tokenLogProbs).sum(new int[] {1}).maximum(1); // (B)
        return sum(tokenLogProbs, lossMask).div(count);
    }

    /**
     * The chosen responses' NLL as TRL computes it for RPO: cross-entropy averaged over all
     * unmasked tokens of the batch, {@code −Σ lp·m / Σ m} → 0-d.
     */
    public static NDArray nll(NDArray tokenLogProbs, NDArray lossMask) { // (B, T-1) → ()
        return LossOps.maskedMean(tokenLogProbs, lossMask).neg();
    }
}
