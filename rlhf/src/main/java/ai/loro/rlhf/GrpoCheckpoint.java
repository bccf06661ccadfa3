package ai.loro.rlhf;

import ai.djl.ndarray.NDArray;
import ai.loro.core.train.Checkpoints;
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
        return RlCheckpoint.restore(out, state -> "grpo".equals(state.path("stage").asText()) ? null
                        : "not a GRPO checkpoint (stage '" + state.path("stage").asText("?") + "')", trainable, optimizer)
                .map(c -> new Resumed(c.dir(), c.step()));
    }

    /** Saves step {@code done} of {@code steps}; {@code dataPosition} prompts have been used; keeps the newest {@code totalLimit} (0: all). */
    static void save(Path out, int done, long seed, int steps, long dataPosition, Map<String, NDArray> trainable,
                     OptimizerStep optimizer, int totalLimit) {
        ObjectNode state = RlCheckpoint.state("grpo", done, seed, steps, optimizer);
        state.put("data", dataPosition);
        Checkpoints.save(out, done, trainable, optimizer.optimizer().state(), state, totalLimit);
    }
}
