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
 * GRPO's checkpoints in {@code output_dir/checkpoints} ({@link Checkpoints}): the adapter and
 * AdamW state, the step and the loss scale. Every random draw is a function of (seed, step), so a
 * resume replays the run exactly.
 */
final class GrpoCheckpoint {
    private GrpoCheckpoint() {}

    record Resumed(Path dir, int step) {}

    static Optional<Resumed> resume(Path out, Map<String, NDArray> trainable, OptimizerStep optimizer) {
        Optional<Path> ckpt = Checkpoints.latest(out);
        if (ckpt.isEmpty()) {
            return Optional.empty();
        }
        ObjectNode state = Checkpoints.readState(ckpt.get());
        if (!"grpo".equals(state.path("stage").asText())) {
            throw new LoroException(ckpt.get() + ": not a GRPO checkpoint (stage '" + state.path("stage").asText("?")
                    + "'); use a fresh output_dir or remove " + Checkpoints.dir(out));
        }
        optimizer.restore(ckpt.get(), state, trainable);
        return Optional.of(new Resumed(ckpt.get(), state.path("step").asInt()));
    }

    /** Saves step {@code done} of {@code steps}; {@code dataPosition} prompts have been used; keeps the newest {@code totalLimit} (0: all). */
    static void save(Path out, int done, long seed, int steps, long dataPosition, Map<String, NDArray> trainable,
                     OptimizerStep optimizer, int totalLimit) {
        ObjectNode state = MetricsLog.JSON.createObjectNode();
        state.put("format", 1);
        state.put("stage", "grpo");
        state.put("step", done);
        state.put("seed", seed);
        state.put("max_steps", steps);
        state.putObject("optimizer").put("step", optimizer.optimizer().stepCount());
        if (optimizer.scaler() != null) {
            optimizer.scaler().save(state);
        }
        state.put("data", dataPosition);
        Checkpoints.save(out, done, trainable, optimizer.optimizer().state(), state, totalLimit);
    }
}
