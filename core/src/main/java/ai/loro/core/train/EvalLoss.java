package ai.loro.core.train;

import ai.loro.core.model.NoGrad;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import java.util.Map;

/** Evaluation over the caller's eval set, run with grad mode off in a scope closed afterwards. */
@FunctionalInterface
public interface EvalLoss {
    /** The loss summed over all eval loss tokens, their count, and extra metrics (logged as is). */
    record Result(double lossSum, long tokens, Map<String, Double> metrics) {
        public Result(double lossSum, long tokens) {
            this(lossSum, tokens, Map.of());
        }

        /** The mean loss per loss token; NaN for an empty eval set. */
        public double loss() {
            return tokens == 0 ? Double.NaN : lossSum / tokens;
        }
    }

    /** @param step completed optimizer steps */
    Result evaluate(NDManager manager, int step);

    /**
     * {@code eval} with {@code mode}'s training switched off while it runs and restored afterwards
     * (see {@link TrainMode}); {@code mode} null: {@code eval} itself.
     */
    static EvalLoss inEvalMode(TrainMode mode, EvalLoss eval) {
        return mode == null ? eval : (m, step) -> TrainMode.evaluating(mode, () -> eval.evaluate(m, step));
    }

    /**
     * Runs {@code eval} once outside the loop (a stage's held-out report after training) the way the
     * loop runs it: eval mode, grad mode off, its arrays freed afterwards.
     */
    static Result once(NDManager parent, TrainMode mode, EvalLoss eval, int step) {
        try (NDManager m = parent.newSubManager(); NDScope ignored = new NDScope(); NoGrad ng = new NoGrad()) {
            return inEvalMode(mode, eval).evaluate(m, step);
        }
    }
}
