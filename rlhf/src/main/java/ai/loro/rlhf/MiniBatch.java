package ai.loro.rlhf;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.loro.core.model.LlamaModel;

/**
 * The rows of a trajectory one mini-batch trains on, as the objectives ({@link PpoObjective},
 * {@link GrpoObjective}) read them: the response mask, the policy's forward pass and any per-token
 * array of the trajectory cut to those rows, each a new array on the step's manager {@code m}.
 */
record MiniBatch(Trajectory t, int[] rows, NDManager m) {
    /** (b, R): 1 for the rows' response tokens. */
    NDArray mask() {
        Rollout ro = t.rollout();
        return Rollout.rows(m, ro.responseMask(), ro.responseLen(), rows);
    }

    /** The rows' log-probs (and values, given a head) under {@code policy} as it is now ({@link PolicyForward#of}). */
    PolicyForward forward(LlamaModel policy, ValueHead head, double temperature) {
        return PolicyForward.of(policy, head, t.rollout(), rows, temperature, m);
    }

    /** A per-token array of the trajectory, (B·R) row-major, cut to the rows as (b, R); null stays null. */
    NDArray of(float[] perToken) {
        return perToken == null ? null : Rollout.rows(m, perToken, t.rollout().responseLen(), rows);
    }
}
