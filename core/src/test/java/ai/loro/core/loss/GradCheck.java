package ai.loro.core.loss;

import static org.junit.jupiter.api.Assertions.assertEquals;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.GradientCollector;
import java.util.function.Function;

/**
 * fp64 gradient check for pure loss functions: autograd (GradientCollector) against central
 * differences {@code (f(x + h) - f(x - h)) / 2h}, h = 1e-6, for every entry of the selected inputs.
 * Shared with the reward, DPO and RLHF modules through loro-core's test-jar.
 */
public final class GradCheck {
    private GradCheck() {}

    /**
     * @param f the loss: inputs (in the order given) to a scalar
     * @param values each input's values
     * @param shapes each input's shape
     * @param wrt indices of the inputs to differentiate; the others are constants
     * @return the number of entries checked
     */
    public static int check(NDManager parent, Function<NDArray[], NDArray> f, double[][] values, Shape[] shapes, int... wrt) {
        int checked = 0;
        try (NDManager m = parent.newSubManager()) {
            NDArray[] in = new NDArray[values.length];
            for (int i = 0; i < values.length; i++) {
                in[i] = m.create(values[i], shapes[i]);
            }
            for (int k : wrt) {
                in[k].setRequiresGradient(true);
            }
            try (GradientCollector gc = Engine.getInstance().newGradientCollector()) {
                gc.backward(f.apply(in));
            }
            for (int k : wrt) {
                double[] grad = in[k].getGradient().toDoubleArray();
                for (int j = 0; j < values[k].length; j++) {
                    double h = 1e-6;
                    double up = eval(m, f, values, shapes, k, j, h);
                    double down = eval(m, f, values, shapes, k, j, -h);
                    double numeric = (up - down) / (2 * h);
                    assertEquals(numeric, grad[j], 1e-7 + 1e-6 * Math.abs(numeric), "d/d input" + k + "[" + j + "]");
                    checked++;
                }
            }
        }
        return checked;
    }

    private static double eval(NDManager parent, Function<NDArray[], NDArray> f, double[][] values, Shape[] shapes, int k, int j, double h) {
        try (NDManager m = parent.newSubManager()) {
            NDArray[] in = new NDArray[values.length];
            for (int i = 0; i < values.length; i++) {
                double[] v = values[i].clone();
                if (i == k) {
                    v[j] += h;
                }
                in[i] = m.create(v, shapes[i]);
            }
            return f.apply(in).getDouble();
        }
    }
}
