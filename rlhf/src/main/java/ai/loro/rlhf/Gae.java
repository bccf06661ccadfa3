package ai.loro.rlhf;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.DataType;
import ai.loro.core.loss.LossOps;

/**
 * Generalised advantage estimation as TRL's PPOTrainer computes it: rewards and values are zeroed
 * where the mask is 0, then, backwards over t,
 * {@code δ_t = r_t + γ V_{t+1} − V_t} (V_T = 0: nothing is bootstrapped after the last token, and
 * a zeroed value after the last valid token ends the episode there) and
 * {@code A_t = δ_t + γλ A_{t+1}}; returns {@code R_t = A_t + V_t}. Masked positions of both
 * outputs are 0. Intended for masks that are one contiguous run per row (right-padded responses,
 * or a masked prompt prefix). Not differentiable (values are detached); computed on the host in
 * double, returned in the values' dtype on the values' manager. Whitening is separate
 * ({@link Whiten}).
 */
public final class Gae {
    private Gae() {}

    /** (B, T) advantages and returns. */
    public record Result(NDArray advantages, NDArray returns) {}

    public static Result advantages(NDArray rewards, NDArray values, NDArray mask, double gamma, double lambda) {
        int b = (int) rewards.getShape().get(0);
        int t = (int) rewards.getShape().get(1);
        double[] r = rewards.stopGradient().toType(DataType.FLOAT64, false).toDoubleArray(); // (B, T)
        double[] v = values.stopGradient().toType(DataType.FLOAT64, false).toDoubleArray(); // (B, T)
        long[] mk = (mask.getDataType() == DataType.BOOLEAN ? mask : mask.neq(0)).toType(DataType.INT64, false).toLongArray();
        double[] adv = new double[b * t];
        double[] ret = new double[b * t];
        for (int i = 0; i < b; i++) {
            double last = 0; // A_{t+1}
            for (int j = t - 1; j >= 0; j--) {
                int k = i * t + j;
                double vj = mk[k] != 0 ? v[k] : 0;
                double rj = mk[k] != 0 ? r[k] : 0;
                double next = j < t - 1 && mk[k + 1] != 0 ? v[k + 1] : 0;
                double delta = rj + gamma * next - vj;
                last = delta + gamma * lambda * last;
                adv[k] = mk[k] != 0 ? last : 0;
                ret[k] = mk[k] != 0 ? last + vj : 0;
            }
        }
        return new Result(LossOps.create(values, adv, values.getShape()), LossOps.create(values, ret, values.getShape()));
    }
}
