package ai.loro.rlhf;

/**
 * A scored GRPO generation batch: the {@link Trajectory} the update reads (its rollout's response
 * mask already without truncated completions when {@code mask_truncated_completions}; log-probs
 * at generation time only when the update goes off-policy; reference log-probs only when β &gt; 0),
 * each completion's advantage and the number of completion tokens (dapo's divisor).
 *
 * @param advantages (B) one per completion
 */
public record GrpoBatch(Trajectory trajectory, float[] advantages, long tokens) {}
