package ai.loro.rlhf;

import java.util.Map;

/**
 * A scored rollout: what a policy update needs, on the host ({@link RolloutScoring#score}). Every
 * float array is (B, R) row-major over the rollout's response tokens and 0 where
 * {@code rollout.responseMask()} is 0.
 *
 * @param scores (B) each response's summed rewards, after the missing-EOS penalty
 * @param logProbs the policy's log-probs when sampled ("old" log-probs of the PPO ratio)
 * @param refLogProbs the reference's log-probs (the policy with its adapter off)
 * @param values the value head's estimates when sampled, or null without a value head
 * @param kl the per-token KL estimate between policy and reference (not yet multiplied by β)
 * @param rewards per-token rewards: −β·KL, plus the score at each response's last token (before whitening)
 * @param advantages the estimator's advantages
 * @param returns the value head's targets, or null without a critic
 * @param metrics the scoring metrics, by their metrics.jsonl names, in logging order
 */
public record Trajectory(Rollout rollout, double[] scores, float[] logProbs, float[] refLogProbs, float[] values,
                         float[] kl, float[] rewards, float[] advantages, float[] returns, Map<String, Double> metrics) {}
