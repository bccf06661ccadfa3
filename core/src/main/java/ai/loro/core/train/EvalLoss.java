package ai.loro.core.train;

import ai.djl.ndarray.NDManager;
import java.util.Map;

/** Evaluation over the caller's eval set, run with grad mode off in a scope closed afterwards. */
@FunctionalInterface
public interface EvalLoss {
    /** The loss summed over all eval loss tokens, their count, and extra metrics (logged as is). */
    record Result(double lossSum, long tokens, Map<String, Double> metrics) {
        public Result(double lossSum, long tokens) {
            this(lossSum, tokens, Map.of());
        }
    }

    /** @param step completed optimizer steps */
    Result evaluate(NDManager manager, int step);
}
