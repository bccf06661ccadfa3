package ai.loro.rlhf;

import ai.djl.ndarray.NDArray;
import ai.loro.core.LoroException;
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
        Optional<Path> ckpt = Checkpoints.latest(out);
        if (ckpt.isEmpty()) {
            return Optional.empty();
        }
        ObjectNode state = Checkpoints.readState(ckpt.get());
        if (!state.has("kl_controller")) {
            throw new LoroException(ckpt.get() + ": not a PPO checkpoint (no KL controller state); use a fresh output_dir"
                    + " or remove " + Checkpoints.dir(out));
        }
        optimizer.restore(ckpt.get(), state, trainable);
        @SuppressWarnings("unchecked")
        Map<String, Object> ks = MetricsLog.JSON.convertValue(state.path("kl_controller"), Map.class);
        return Optional.of(new Resumed(ckpt.get(), state.path("step").asInt(), KlController.fromState(KlController.State.fromMap(ks))));
    }

    /** Saves step {@code done} of {@code steps}; {@code dataPosition} prompts have been used; keeps the newest {@code totalLimit} (0: all). */
    static void save(Path out, int done, long seed, int steps, long dataPosition, Map<String, NDArray> trainable,
                     OptimizerStep optimizer, KlController kl, int totalLimit) {
        ObjectNode state = MetricsLog.JSON.createObjectNode();
        state.put("format", 1);
        state.put("stage", "ppo");
        state.put("step", done);
        state.put("seed", seed);
        state.put("max_steps", steps);
        state.putObject("optimizer").put("step", optimizer.optimizer().stepCount());
        if (optimizer.scaler() != null) {
            optimizer.scaler().save(state);
        }
        state.set("kl_controller", MetricsLog.JSON.valueToTree(kl.state().toMap()));
        state.put("data", dataPosition);
        Checkpoints.save(out, done, trainable, optimizer.optimizer().state(), state, totalLimit);
    }
}
