package ai.loro.core.train;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import java.util.Map;

/**
 * The stage-specific part of a training step: draws the next micro-batch from the caller's data and
 * returns its loss summed over its loss tokens. Called inside an open GradientCollector; every array
 * it makes should be made in (or join) {@code manager}, which is closed after the backward pass.
 */
@FunctionalInterface
public interface MicroBatchLoss {
    /**
     * @param lossSum scalar: the loss summed (not averaged) over the micro-batch's loss tokens
     * @param tokens the number of loss tokens (the step's loss is the sum of {@code lossSum} over its
     *     micro-batches divided by the sum of {@code tokens})
     * @param metrics extra stage metrics (e.g. reward accuracy), averaged over micro-batches and
     *     logging steps; may be empty
     */
    record Result(NDArray lossSum, long tokens, Map<String, Double> metrics) {
        public Result(NDArray lossSum, long tokens) {
            this(lossSum, tokens, Map.of());
        }
    }

    /**
     * @param step 0-based optimizer step
     * @param microBatch 0-based index within the step
     */
    Result compute(NDManager manager, int step, int microBatch);

    /**
     * {@code loss} with {@code mode}'s step set before each step's first micro-batch (see
     * {@link TrainMode#setStep}); {@code mode} null: {@code loss} itself.
     */
    static MicroBatchLoss stepping(TrainMode mode, MicroBatchLoss loss) {
        return mode == null ? loss : (m, step, micro) -> {
            if (micro == 0) {
                mode.setStep(step);
            }
            return loss.compute(m, step, micro);
        };
    }
}
