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
import java.util.function.Function;

/**
 * What PPO's and GRPO's checkpoints ({@link PpoCheckpoint}, {@link GrpoCheckpoint}) share: finding
 * and restoring the newest one, and the head of the state every one of them writes.
 */
final class RlCheckpoint {
    private RlCheckpoint() {}

    /** A restored checkpoint: its folder and its state. */
    record Restored(Path dir, ObjectNode state) {
        int step() {
            return state.path("step").asInt();
        }
    }

    /**
     * Restores the newest checkpoint of {@code out} into {@code trainable} and {@code optimizer}, if
     * there is one. {@code mismatch} says why a state is not this stage's (null when it is); such a
     * checkpoint is refused before anything is restored.
     */
    static Optional<Restored> restore(Path out, Function<ObjectNode, String> mismatch, Map<String, NDArray> trainable,
                                      OptimizerStep optimizer) {
        Optional<Path> ckpt = Checkpoints.latest(out);
        if (ckpt.isEmpty()) {
            return Optional.empty();
        }
        ObjectNode state = Checkpoints.readState(ckpt.get());
        String why = mismatch.apply(state);
        if (why != null) {
            throw new LoroException(ckpt.get() + ": " + why + "; use a fresh output_dir or remove " + Checkpoints.dir(out));
        }
        optimizer.restore(ckpt.get(), state, trainable);
        return Optional.of(new Restored(ckpt.get(), state));
    }

    /** The state's first fields: format, stage, step {@code done} of {@code steps}, seed, optimizer step and loss scale. */
    static ObjectNode state(String stage, int done, long seed, int steps, OptimizerStep optimizer) {
        ObjectNode state = MetricsLog.JSON.createObjectNode();
        state.put("format", 1);
        state.put("stage", stage);
        state.put("step", done);
        state.put("seed", seed);
        state.put("max_steps", steps);
        state.putObject("optimizer").put("step", optimizer.optimizer().stepCount());
        if (optimizer.scaler() != null) {
            optimizer.scaler().save(state);
        }
        return state;
    }
}
