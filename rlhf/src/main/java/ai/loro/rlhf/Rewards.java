package ai.loro.rlhf;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.DataType;
import ai.loro.core.loss.LossOps;

/** Per-token rewards for PPO from sequence scores, as TRL builds them. */
public final class Rewards {
    private Rewards() {}

    /**
     * {@code −klCoef · kl_t} at each valid token, plus the sequence's score at its last valid
     * token; 0 where the mask is 0. TRL places the score at the EOS position when the response
     * ended with one: include that token in the mask. Every row needs a valid token.
     *
     * @param scores (B) reward-model scores
     * @param kl (B, T) per-token KL estimates ({@link KlPenalty#perToken})
     * @param mask (B, T) response tokens
     * @return (B, T)
     */
    public static NDArray withKl(NDArray scores, NDArray kl, double klCoef, NDArray mask) {
        LossOps.requireNonEmptyRows(mask, "rewards");
        long t = kl.getShape().get(1);
        NDArray last = LossOps.lastIndexFromMask(mask); // (B) int64
        NDArray isLast = last.oneHot((int) t, kl.getDataType()); // (B, T) 1 at the last valid token
        isLast.attach(kl.getManager());
        NDArray scoreAt = isLast.mul(scores.toType(kl.getDataType(), false).expandDims(1)); // (B, T)
        return LossOps.masked(kl.mul(-klCoef), mask).add(scoreAt);
    }

    /**
     * TRL's missing_eos_penalty: {@code score − penalty} for responses that did not end with EOS
     * (truncated at the length limit), unchanged otherwise.
     *
     * @param scores (B)
     * @param endedWithEos (B) boolean (or 0/1)
     * @param penalty subtracted, usually > 0
     */
    public static NDArray penalizeMissingEos(NDArray scores, NDArray endedWithEos, double penalty) {
        NDArray ended = endedWithEos.getDataType() == DataType.BOOLEAN ? endedWithEos : endedWithEos.neq(0);
        return LossOps.where(ended, scores, scores.sub(penalty));
    }
}
