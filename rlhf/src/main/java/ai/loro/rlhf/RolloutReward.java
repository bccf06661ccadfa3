package ai.loro.rlhf;

import ai.djl.ndarray.NDManager;
import java.util.List;

/**
 * A reward for a whole rollout batch: one score per row. The batched form of {@link RewardFunction}
 * (which scores one response's text), so that a model that reads token ids in one forward pass —
 * the reward model ({@link RewardModelReward}) — stands beside the text functions and
 * {@link ClassifierReward}. Each PPO step sums its rewards per row ({@link #sum}).
 */
@FunctionalInterface
public interface RolloutReward {
    /**
     * @param m a manager for arrays of the scoring pass (closed by the caller)
     * @return (B) one score per row of {@code ro}
     */
    double[] score(Rollout ro, NDManager m);

    /** A per-response function applied to each row's prompt text, response text and answer. */
    static RolloutReward of(RewardFunction f) {
        return (ro, m) -> {
            double[] s = new double[ro.batch()];
            for (int i = 0; i < s.length; i++) {
                Prompts.Prompt p = ro.prompts().get(i);
                s[i] = f.score(p.text(), ro.responses().get(i).text(), p.answer());
            }
            return s;
        };
    }

    /**
     * (B) each row's scores added up from 0 in list order (the order fixes the floating-point sum:
     * PPO lists the reward model first, then the recipe's functions, then the classifier).
     */
    static double[] sum(List<RolloutReward> rewards, Rollout ro, NDManager m) {
        double[] total = new double[ro.batch()];
        for (RolloutReward r : rewards) {
            double[] s = r.score(ro, m);
            for (int i = 0; i < total.length; i++) {
                total[i] += s[i];
            }
        }
        return total;
    }
}
