package ai.loro.reward;

import ai.djl.ndarray.NDArray;
import ai.loro.core.LoroException;
import ai.loro.core.loss.LossOps;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The pairwise (Bradley–Terry) reward-model loss of TRL's RewardTrainer:
 * {@code mean(-log σ(r_c - r_r - margin)) + coef · mean((r_c + r_r)²)}, the second term being
 * {@code center_rewards_coefficient} (Eisenstein et al. 2023), which pulls the rewards towards 0.
 */
public final class BradleyTerry {
    private BradleyTerry() {}

    /** The scalar loss and TRL's metrics {@code accuracy} (share of r_c > r_r) and {@code margin} (mean r_c − r_r). */
    public record Result(NDArray loss, Map<String, Double> metrics) {}

    /**
     * @param chosenRewards (B) the reward model's score of each chosen response
     * @param rejectedRewards (B) of each rejected response
     * @param margin (B) a required reward gap per pair (TRL's "margin" column), or null for none
     * @param centerRewardsCoefficient ≥ 0; 0 turns the centring term off (TRL's None)
     */
    public static Result loss(NDArray chosenRewards, NDArray rejectedRewards, NDArray margin, double centerRewardsCoefficient) {
        if (!(centerRewardsCoefficient >= 0) || Double.isInfinite(centerRewardsCoefficient)) {
            throw new LoroException("center_rewards_coefficient must be a finite number ≥ 0, got " + centerRewardsCoefficient);
        }
        NDArray diff = chosenRewards.sub(rejectedRewards); // (B)
        NDArray logits = margin == null ? diff : diff.sub(margin); // (B)
        NDArray loss = LossOps.logSigmoid(logits).neg().mean(); // ()
        if (centerRewardsCoefficient > 0) {
            loss = loss.add(LossOps.times(chosenRewards.add(rejectedRewards).square().mean(), centerRewardsCoefficient));
        }
        Map<String, Double> metrics = new LinkedHashMap<>();
        NDArray d = diff.stopGradient();
        metrics.put("accuracy", LossOps.scalar(d.gt(0).toType(d.getDataType(), false).mean()));
        metrics.put("margin", LossOps.scalar(d.mean()));
        return new Result(loss, metrics);
    }
}
