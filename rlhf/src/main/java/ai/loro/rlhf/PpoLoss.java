package ai.loro.rlhf;

import ai.djl.ndarray.NDArray;
import ai.loro.core.LoroException;
import ai.loro.core.loss.LossOps;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * PPO's clipped losses as TRL's PPOTrainer computes them, with its metric names. All means are
 * masked means over the (B, T) response tokens; masked entries may hold anything (TRL puts
 * INVALID_LOGPROB = 1 there): they are replaced, never multiplied, so ±inf or NaN does not leak.
 */
public final class PpoLoss {
    private PpoLoss() {}

    /** The scalar loss and its metrics. */
    public record Result(NDArray loss, Map<String, Double> metrics) {}

    /**
     * {@code masked_mean(max(−A·ρ, −A·clip(ρ, 1−ε, 1+ε)))}, ρ = exp(new − old).
     * Metrics: {@code ppo/loss/policy}, {@code ppo/policy/approxkl} = ½·masked_mean((new − old)²),
     * {@code ppo/policy/policykl} = masked_mean(old − new), {@code ppo/policy/clipfrac} = share of
     * tokens where the clipped term is the larger.
     *
     * @param newLogProbs (B, T) under the current policy (differentiable)
     * @param oldLogProbs (B, T) at rollout time
     * @param advantages (B, T)
     * @param mask (B, T) response tokens
     * @param clipRange ε > 0
     */
    public static Result policy(NDArray newLogProbs, NDArray oldLogProbs, NDArray advantages, NDArray mask, double clipRange) {
        if (!(clipRange > 0)) {
            throw new LoroException("cliprange must be > 0, got " + clipRange);
        }
        NDArray diff = LossOps.masked(newLogProbs.sub(oldLogProbs), mask); // (B, T), 0 where masked → ρ = 1
        NDArray ratio = diff.exp(); // (B, T)
        NDArray a = LossOps.masked(advantages, mask).stopGradient().neg(); // (B, T) −A
        NDArray l1 = ratio.mul(a); // −A·ρ
        NDArray l2 = ratio.clip(1 - clipRange, 1 + clipRange).mul(a); // −A·clip(ρ)
        NDArray loss = LossOps.maskedMean(l1.maximum(l2), mask); // ()
        Map<String, Double> metrics = new LinkedHashMap<>();
        NDArray d = diff.stopGradient();
        metrics.put("ppo/loss/policy", LossOps.scalar(loss));
        metrics.put("ppo/policy/approxkl", LossOps.scalar(LossOps.maskedMean(d.square(), mask).mul(0.5)));
        metrics.put("ppo/policy/policykl", LossOps.scalar(LossOps.maskedMean(d.neg(), mask)));
        NDArray clipped = l2.stopGradient().gt(l1.stopGradient());
        metrics.put("ppo/policy/clipfrac", LossOps.scalar(LossOps.maskedMean(LossOps.maskAs(clipped, d), mask)));
        return new Result(loss, metrics);
    }

    /**
     * {@code ½ · masked_mean(max((v − R)², (clip(v, v_old − ε, v_old + ε) − R)²))}.
     * Metrics: {@code ppo/loss/value}, {@code ppo/val/vpred} (masked mean of v),
     * {@code ppo/val/error} (masked mean of (v − R)²), {@code ppo/val/clipfrac}.
     *
     * @param newValues (B, T) value head now (differentiable)
     * @param oldValues (B, T) at rollout time
     * @param returns (B, T) GAE returns
     * @param clipRangeValue ε > 0
     */
    public static Result value(NDArray newValues, NDArray oldValues, NDArray returns, NDArray mask, double clipRangeValue) {
        if (!(clipRangeValue > 0)) {
            throw new LoroException("cliprange_value must be > 0, got " + clipRangeValue);
        }
        NDArray v = LossOps.masked(newValues, mask); // (B, T)
        NDArray old = LossOps.masked(oldValues, mask).stopGradient();
        NDArray ret = LossOps.masked(returns, mask).stopGradient();
        NDArray vClipped = v.maximum(old.sub(clipRangeValue)).minimum(old.add(clipRangeValue)); // (B, T)
        NDArray l1 = v.sub(ret).square();
        NDArray l2 = vClipped.sub(ret).square();
        // a libtorch-owned 0.5: autograd keeps the factor for the backward pass, and DJL's mul(Number)
        // frees its Java-backed scalar right after the op
        NDArray loss = LossOps.times(LossOps.maskedMean(l1.maximum(l2), mask), 0.5); // ()
        Map<String, Double> metrics = new LinkedHashMap<>();
        metrics.put("ppo/loss/value", LossOps.scalar(loss));
        metrics.put("ppo/val/vpred", LossOps.scalar(LossOps.maskedMean(v.stopGradient(), mask)));
        metrics.put("ppo/val/error", LossOps.scalar(LossOps.maskedMean(l1.stopGradient(), mask)));
        NDArray clipped = l2.stopGradient().gt(l1.stopGradient());
        metrics.put("ppo/val/clipfrac", LossOps.scalar(LossOps.maskedMean(LossOps.maskAs(clipped, v), mask)));
        return new Result(loss, metrics);
    }

    /** Per-token entropy {@code −Σ_v p log p} of softmax(logits): (B, T, V) → (B, T). */
    public static NDArray entropyPerToken(NDArray logits) {
        NDArray logp = logits.logSoftmax(-1); // (B, T, V)
        return logp.exp().mul(logp).sum(new int[] {-1}).neg();
    }

    /** Masked mean of {@link #entropyPerToken} (TRL's {@code ppo/policy/entropy}): (B, T, V), (B, T) → (). */
    public static NDArray entropy(NDArray logits, NDArray mask) {
        return LossOps.maskedMean(entropyPerToken(logits), mask);
    }
}
