package ai.loro.rlhf;

import ai.djl.ndarray.NDArray;
import ai.loro.core.train.Checkpoints;
import ai.loro.core.train.MetricsLog;
import ai.loro.core.train.OptimizerStep;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.nio.file.Path;
import java.util.Map;
import java.util.Optional;

/**
 * PPO's checkpoints in {@code output_dir/checkpoints} ({@link Checkpoints}): the trainable
 * parameters (LoRA + value head) and AdamW state, with the step, the loss scale and the KL
 * controller in the state. Every random draw is a function of (seed, step), so this is all a
 * resume needs to replay the run exactly.
 */
final class PpoCheckpoint {
    private PpoCheckpoint() {}

    /** Where a resumed run continues: the checkpoint, its completed steps and the KL controller as it was. */
    record Resumed(Path dir, int step, KlController kl) {}

    /** Restores the newest checkpoint of {@code out} into {@code trainable} and {@code optimizer}, if there is one. */
    static Optional<Resumed> resume(Path out, Map<String, NDArray> trainable, OptimizerStep optimizer) {
        return RlCheckpoint.restore(out, state -> state.has("kl_controller") ? null
                        : "not a PPO checkpoint (no KL controller state)", trainable, optimizer)
                .map(c -> new Resumed(c.dir(), c.step(), klController(c.state())));
    }

    private static KlController klController(ObjectNode state) {
        @SuppressWarnings("unchecked")
        Map<String, Object> ks = MetricsLog.JSON.convertValue(state.path("kl_controller"), Map.class);
        return KlController.fromState(KlController.State.fromMap(ks));
    }

    /** Saves step {@code done} of {@code steps}; {@code dataPosition} prompts have been used; keeps the newest {@code totalLimit} (0: all). */
    static void save(Path out, int done, long seed, int steps, long dataPosition, Map<String, NDArray> trainable,
                     OptimizerStep optimizer, KlController kl, int totalLimit) {
        ObjectNode state = RlCheckpoint.state("ppo", done, seed, steps, optimizer);
        state.set("kl_controller", MetricsLog.JSON.valueToTree(kl.state().toMap()));
        state.put("data", dataPosition);
        Checkpoints.save(out, done, trainable, optimizer.optimizer().state(), state, totalLimit);
    }
}
