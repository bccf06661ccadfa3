package ai.loro.core.train;

import static org.junit.jupiter.api.Assertions.*;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.training.GradientCollector;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Global-norm clipping by hand: grads (3, 4) have norm 5. */
class GradClipTest {
    @Test
    void clipsToMaxNormAcrossParameters() {
        try (NDManager m = NDManager.newBaseManager()) {
            NDArray a = m.create(new double[] {0.0});
            NDArray b = m.create(new double[] {0.0});
            a.setRequiresGradient(true);
            b.setRequiresGradient(true);
            backward(m, a, b, 3, 4);
            double norm = GradClip.clipGlobalNorm(List.of(a, b), 1.0);
            assertEquals(5.0, norm, 1e-15);
            double coef = 1.0 / (5.0 + 1e-6);
            assertEquals(3 * coef, a.getGradient().getDouble(0), 1e-15);
            assertEquals(4 * coef, b.getGradient().getDouble(0), 1e-15);
            assertEquals(0.6, a.getGradient().getDouble(0), 1e-6);
            assertEquals(0.8, b.getGradient().getDouble(0), 1e-6);
        }
    }

    @Test
    void leavesSmallGradientsAlone() {
        try (NDManager m = NDManager.newBaseManager()) {
            NDArray a = m.create(new double[] {0.0, 0.0});
            a.setRequiresGradient(true);
            try (NDManager s = m.newSubManager(); GradientCollector gc = Engine.getInstance().newGradientCollector()) {
                gc.backward(s.create(new double[] {3, 4}).mul(a).sum());
            }
            assertEquals(5.0, GradClip.clipGlobalNorm(List.of(a), 10.0), 1e-15);
            assertArrayEquals(new double[] {3, 4}, a.getGradient().toDoubleArray(), 0);
            // disabled clipping still measures
            assertEquals(5.0, GradClip.clipGlobalNorm(List.of(a), 0), 1e-15);
        }
    }

    @Test
    void preScaleIsAppliedBeforeMeasuring() {
        try (NDManager m = NDManager.newBaseManager()) {
            NDArray a = m.create(new double[] {0.0});
            NDArray b = m.create(new double[] {0.0});
            a.setRequiresGradient(true);
            b.setRequiresGradient(true);
            backward(m, a, b, 30, 40);
            double norm = GradClip.clipGradients(List.of(a.getGradient(), b.getGradient()), 1.0, 0.1);
            assertEquals(5.0, norm, 1e-13);
            assertEquals(0.6, a.getGradient().getDouble(0), 1e-6);
            assertEquals(0.8, b.getGradient().getDouble(0), 1e-6);
        }
    }

    @Test
    void nonFiniteNormIsReported() {
        try (NDManager m = NDManager.newBaseManager()) {
            NDArray a = m.create(new double[] {0.0});
            NDArray b = m.create(new double[] {0.0});
            a.setRequiresGradient(true);
            b.setRequiresGradient(true);
            backward(m, a, b, Double.NaN, 1);
            assertTrue(Double.isNaN(GradClip.clipGlobalNorm(List.of(a, b), 1.0)));
        }
    }

    private static void backward(NDManager m, NDArray a, NDArray b, double ga, double gb) {
        try (NDManager s = m.newSubManager(); GradientCollector gc = Engine.getInstance().newGradientCollector()) {
            gc.backward(s.create(new double[] {ga}).mul(a).sum().add(s.create(new double[] {gb}).mul(b).sum()));
        }
    }
}
