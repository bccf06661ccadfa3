package ai.loro.rlhf;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.Shape;
import ai.loro.core.LoroException;

/**
 * GRPO's advantages from the rewards of a generation batch of {@code N} groups of {@code G}
 * completions (rows {@code i·G … i·G + G − 1} answer prompt i), as TRL's GRPOTrainer computes them:
 * <ul>
 *   <li>baseline ({@code advantage}): {@code grpo} = the group mean, {@code A = r − mean_g};
 *       {@code rloo} = the mean of the other G − 1 completions of the group (RLOO's leave-one-out
 *       baseline), {@code A = r − (Σ_g r − r)/(G − 1) = G/(G − 1) · (r − mean_g)};
 *   <li>scaling ({@code scale_rewards}): {@code group} divides by the group's standard deviation
 *       + 1e-4, {@code batch} by the whole batch's + 1e-4, {@code none} (Dr. GRPO) not at all.
 *       Standard deviations are the sample ones (n − 1), as torch's {@code std}.
 * </ul>
 * A group whose rewards are all equal has zero advantage under every setting (it teaches nothing);
 * the share of such groups is TRL's {@code frac_reward_zero_std}.
 */
public final class GrpoAdvantages {
    /** Added to the standard deviation before dividing (TRL's constant). */
    public static final double STD_EPS = 1e-4;

    /** The baselines ({@code advantage}) {@link #compute} implements, as a recipe names them (GrpoConfig's allowed values). */
    public static final String BASELINES = "grpo|rloo";

    /** The {@code scale_rewards} settings {@link #compute} implements. */
    public static final String SCALES = "group|batch|none";

    private GrpoAdvantages() {}

    /**
     * @param advantages (N·G) one per completion
     * @param groupStd (N) each group's sample standard deviation of the rewards
     * @param fracZeroStd share of groups whose rewards are all equal (standard deviation 0)
     */
    public record Result(NDArray advantages, NDArray groupStd, double fracZeroStd) {}

    /**
     * @param rewards (N·G) the summed, weighted rewards, grouped as above
     * @param g completions per prompt (≥ 2)
     * @param advantage "grpo" or "rloo"
     * @param scale "group", "batch" or "none"
     */
    public static Result compute(NDArray rewards, int g, String advantage, String scale) {
        long total = rewards.getShape().size();
        if (g < 2 || total % g != 0) {
            throw new LoroException("group advantages need groups of at least 2 completions; got " + total + " rewards in groups of " + g);
        }
        long n = total / g;
        NDArray r = rewards.reshape(new Shape(n, g)); // (N, G)
        NDArray mean = r.mean(new int[] {1}, true); // (N, 1)
        NDArray centred = r.sub(mean); // (N, G)
        NDArray groupStd = centred.square().sum(new int[] {1}).div(g - 1).sqrt(); // (N)
        NDArray a = switch (advantage) {
            case "grpo" -> centred;
            case "rloo" -> centred.mul((double) g / (g - 1)); // r − (Σ r − r)/(G − 1)
            default -> throw new LoroException("unknown advantage '" + advantage + "'; allowed: grpo, rloo");
        };
        NDArray scaled = switch (scale) {
            case "group" -> a.div(groupStd.expandDims(1).add(STD_EPS));
            case "batch" -> a.div(batchStd(rewards).add(STD_EPS));
            case "none" -> a;
            default -> throw new LoroException("unknown scale_rewards '" + scale + "'; allowed: group, batch, none");
        };
        // all-equal groups: exactly zero, whatever rounding the mean left
        NDArray equal = r.max(new int[] {1}, true).eq(r.min(new int[] {1}, true)); // (N, 1)
        NDArray adv = scaled.mul(equal.logicalNot().toType(scaled.getDataType(), false)).reshape(new Shape(total)); // (N·G)
        double frac = equal.toType(ai.djl.ndarray.types.DataType.FLOAT64, false).mean().getDouble();
        return new Result(adv, groupStd, frac);
    }

    /** The sample standard deviation of all of {@code x}: () . */
    static NDArray batchStd(NDArray x) {
        long n = x.getShape().size();
        NDArray c = x.sub(x.mean());
        return c.square().sum().div(Math.max(1, n - 1)).sqrt();
    }
}
