package ai.loro.core.loss;

import static org.junit.jupiter.api.Assertions.*;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.GradientCollector;
import ai.loro.core.LoroException;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

class LossOpsTest {
    static NDManager m;

    @BeforeAll
    static void up() {
        m = NDManager.newBaseManager();
    }

    @AfterAll
    static void down() {
        m.close();
    }

    @Test
    void softplusAndLogSigmoidByHand() {
        // softplus(0) = ln 2; softplus(2) = ln(1 + e²) = 2.1269280110429727; softplus(-2) = ln(1 + e^-2)
        // = 0.1269280110429726; softplus(±800): 800 and e^-800 (≈ 0 in fp64: no overflow, no NaN)
        double[] x = {0, 2, -2, 800, -800};
        double[] sp = LossOps.softplus(m.create(x)).toDoubleArray();
        assertArrayEquals(new double[] {Math.log(2), 2.1269280110429727, 0.1269280110429726, 800, 0}, sp, 1e-15);
        // log σ(x) = -softplus(-x): log σ(2) = -0.1269280110429726, log σ(-800) = -800
        double[] ls = LossOps.logSigmoid(m.create(x)).toDoubleArray();
        assertArrayEquals(new double[] {-Math.log(2), -0.1269280110429726, -2.1269280110429727, 0, -800}, ls, 1e-15);
        // fp32 keeps its dtype and stays finite at ±100
        NDArray f = LossOps.logSigmoid(m.create(new float[] {-100, 100}));
        assertEquals(DataType.FLOAT32, f.getDataType());
        assertArrayEquals(new float[] {-100, 0}, f.toFloatArray(), 1e-6f);
    }

    @Test
    void softplusGradientIsSigmoidIncludingZeroAndExtremes() {
        // d/dx softplus = σ(x): σ(0) = 0.5 exactly (the kink-free composition), σ(800) = 1, σ(-800) = 0
        NDArray x = m.create(new double[] {0, 800, -800, 1.5});
        x.setRequiresGradient(true);
        try (GradientCollector gc = Engine.getInstance().newGradientCollector()) {
            gc.backward(LossOps.softplus(x).sum());
        }
        assertArrayEquals(new double[] {0.5, 1, 0, 1 / (1 + Math.exp(-1.5))}, x.getGradient().toDoubleArray(), 1e-15);
        assertEquals(8, GradCheck.check(m, in -> LossOps.logSigmoid(in[0]).mul(in[1]).sum(),
                new double[][] {{0, 0.3, -4, 7}, {1, 2, -1, 0.5}}, new Shape[] {new Shape(4), new Shape(4)}, 0, 1));
    }

    @Test
    void maskedMeanIgnoresGarbageUnderTheMask() {
        // valid entries 1, 3, 4 → mean 8/3; the masked entry is +inf and must not leak
        NDArray x = m.create(new double[] {1, Double.POSITIVE_INFINITY, 3, 4}, new Shape(2, 2));
        NDArray mask = m.create(new long[] {1, 0, 1, 1}, new Shape(2, 2));
        assertEquals(8.0 / 3, LossOps.maskedMean(x, mask).getDouble(), 1e-15);
        assertArrayEquals(new double[] {1, 3.5}, LossOps.maskedMean(x, mask, 1).toDoubleArray(), 1e-15);
        assertArrayEquals(new double[] {1, 7}, LossOps.maskedSum(x, mask, 1).toDoubleArray(), 1e-15);
    }

    @Test
    void lastIndexFromMaskLeftRightAndEmpty() {
        // rows: right padded (last valid 1), left padded (3), holes (2)
        NDArray mask = m.create(new long[] {1, 1, 0, 0, 0, 0, 1, 1, 1, 0, 1, 0}, new Shape(3, 4));
        assertArrayEquals(new long[] {1, 3, 2}, LossOps.lastIndexFromMask(mask).toLongArray());
        NDArray empty = m.create(new boolean[] {true, false, false, false}, new Shape(2, 2));
        LoroException e = assertThrows(LoroException.class, () -> LossOps.requireNonEmptyRows(empty, "rewards"));
        assertEquals("rewards: row 1 of the mask has no valid token", e.getMessage());
    }
}
