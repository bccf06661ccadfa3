package ai.loro.rlhf;

import ai.djl.ndarray.NDArray;
import ai.loro.core.LoroException;
import ai.loro.core.loss.LossOps;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * GRPO's clipped surrogate loss and its 2025 variants, as TRL's GRPOTrainer computes them. Per
 * token, with the log importance weight {@code w} = new − old ({@code token} level) or, for GSPO
 * ({@code sequence} level), the row's mean of new − old over its completion tokens:
 * <pre>
 *   ρ = exp(w),  ℓ = −min(ρ·A, clip(ρ, 1 − ε_low, 1 + ε_high)·A) + β·k3,
 *   k3 = exp(ref − new) − (ref − new) − 1                      (only when β &gt; 0)
 * </pre>
 * with A the completion's advantage ({@link GrpoAdvantages}), ε_high ≥ ε_low for DAPO's
 * clip-higher. The mean over tokens ({@code loss_type}):
 * <ul>
 *   <li>{@code grpo}: each completion's token mean, then the mean over completions;
 *   <li>{@code bnpo}: the sum over the mini-batch's tokens / their number;
 *   <li>{@code dr_grpo}: the sum over tokens / (completions × max_new_tokens) (Dr. GRPO);
 *   <li>{@code dapo}: the sum over tokens / the number of completion tokens in the whole
 *       generation batch (the same for every mini-batch of it).
 * </ul>
 * Masked entries may hold anything (they are replaced, never multiplied).
 */
public final class GrpoLoss {
    private GrpoLoss() {}

    /** The {@code loss_type}s {@link #loss} implements, as a recipe names them (GrpoConfig's allowed values). */
    public static final String LOSS_TYPES = "grpo|bnpo|dr_grpo|dapo";

    /** The {@code importance_sampling_level}s {@link #loss} implements. */
    public static final String LEVELS = "token|sequence";

    /**
     * @param lossType grpo | bnpo | dr_grpo | dapo
     * @param importanceSamplingLevel token | sequence
     * @param epsilon ε_low &gt; 0
     * @param epsilonHigh ε_high &gt; 0 (TRL: defaults to ε_low)
     * @param beta the KL coefficient; 0 = no KL term (no reference needed)
     * @param maxNewTokens the completion length limit (dr_grpo's constant)
     */
    public record Config(String lossType, String importanceSamplingLevel, double epsilon, double epsilonHigh, double beta,
                         int maxNewTokens) {
        public Config {
            if (!(epsilon > 0) || !(epsilonHigh > 0)) {
                throw new LoroException("grpo.epsilon and grpo.epsilon_high must be > 0, got " + epsilon + " and " + epsilonHigh);
            }
            if (!java.util.List.of(LOSS_TYPES.split("\\|")).contains(lossType)) {
                throw new LoroException("unknown grpo.loss_type '" + lossType + "'; allowed: grpo, bnpo, dr_grpo, dapo");
            }
            if (!java.util.List.of(LEVELS.split("\\|")).contains(importanceSamplingLevel)) {
                throw new LoroException("unknown grpo.importance_sampling_level '" + importanceSamplingLevel + "'; allowed: token, sequence");
            }
        }
    }

    /** The scalar loss and its metrics: {@code clip_ratio/low_mean}, {@code clip_ratio/high_mean}, {@code clip_ratio/region_mean}, {@code kl} (β &gt; 0). */
    public record Result(NDArray loss, Map<String, Double> metrics) {}

    /**
     * @param newLogProbs (B, T) under the policy now (differentiable)
     * @param oldLogProbs (B, T) at generation time, or null: the new ones detached (ratio 1, as TRL
     *     when each generation batch gets one update)
     * @param refLogProbs (B, T) under the reference, or null when β = 0
     * @param advantages (B) one per completion
     * @param mask (B, T) completion tokens
     * @param batchTokens the completion tokens of the whole generation batch (dapo's divisor)
     */
    public static Result loss(NDArray newLogProbs, NDArray oldLogProbs, NDArray refLogProbs, NDArray advantages, NDArray mask,
                              long batchTokens, Config c) {
        NDArray m = LossOps.maskAs(mask, newLogProbs); // (B, T) 0/1
        NDArray old = oldLogProbs == null ? newLogProbs.stopGradient() : oldLogProbs.stopGradient();
        NDArray logRatio = LossOps.masked(newLogProbs.sub(old), mask); // (B, T), 0 where masked
        NDArray logW = c.importanceSamplingLevel().equals("sequence")
                ? logRatio.sum(new int[] {1}, true).div(m.sum(new int[] {1}, true).maximum(1)) // (B, 1) GSPO
                : logRatio; // (B, T)
        NDArray ratio = logW.exp(); // (B, T) or (B, 1)
        NDArray a = advantages.stopGradient().expandDims(1); // (B, 1)
        NDArray l1 = ratio.mul(a);
        NDArray l2 = ratio.clip(1 - c.epsilon(), 1 + c.epsilonHigh()).mul(a);
        NDArray perToken = l1.minimum(l2).neg().mul(m.onesLike()); // (B, T)
        Map<String, Double> metrics = new LinkedHashMap<>();
        if (c.beta() > 0) {
            if (refLogProbs == null) {
                throw new IllegalArgumentException("beta > 0 needs the reference log-probs");
            }
            NDArray d = LossOps.masked(refLogProbs.stopGradient().sub(newLogProbs), mask); // (B, T) ref − new
            NDArray k3 = d.exp().sub(d).sub(1); // (B, T) ≥ 0
            perToken = perToken.add(LossOps.times(k3, c.beta()));
            metrics.put("kl", LossOps.scalar(meanOver(k3, m)));
        }
        NDArray masked = LossOps.masked(perToken, mask); // (B, T)
        long rows = newLogProbs.getShape().get(0);
        NDArray loss = switch (c.lossType()) {
            case "grpo" -> masked.sum(new int[] {1}).div(m.sum(new int[] {1}).maximum(1)).mean();
            case "bnpo" -> masked.sum().div(m.sum().maximum(1));
            case "dr_grpo" -> masked.sum().div(LossOps.constant(masked, (double) rows * c.maxNewTokens()));
            default -> masked.sum().div(LossOps.constant(masked, Math.max(1, batchTokens))); // dapo
        };
        NDArray r = ratio.stopGradient().mul(m.onesLike()); // (B, T)
        NDArray adv = a.mul(m.onesLike()); // (B, T)
        NDArray low = r.lt(1 - c.epsilon()).logicalAnd(adv.lt(0));
        NDArray high = r.gt(1 + c.epsilonHigh()).logicalAnd(adv.gt(0));
        metrics.put("clip_ratio/low_mean", LossOps.scalar(meanOver(LossOps.maskAs(low, r), m)));
        metrics.put("clip_ratio/high_mean", LossOps.scalar(meanOver(LossOps.maskAs(high, r), m)));
        metrics.put("clip_ratio/region_mean", LossOps.scalar(meanOver(LossOps.maskAs(low.logicalOr(high), r), m)));
        return new Result(loss, metrics);
    }

    /** {@code Σ x·m / max(Σ m, 1)} over all elements (0 for an all-masked batch): (B, T), (B, T) 0/1 → (). */
    static NDArray meanOver(NDArray x, NDArray m) {
        return x.mul(m).sum().div(m.sum().maximum(1));
    }
}
