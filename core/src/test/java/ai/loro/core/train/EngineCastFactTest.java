package ai.loro.core.train;

import static org.junit.jupiter.api.Assertions.*;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.GradientCollector;
import org.junit.jupiter.api.Test;

/**
 * An engine fact the mixed-precision design rests on (measured, DJL 0.35.1 / libtorch 2.7.1): a
 * dtype-changing {@code toType} is not recorded by autograd, so fp32 master weights cannot be cast
 * to fp16 inside a differentiated forward pass. Mixed precision therefore has to keep fp16
 * parameters in the graph and fp32 master copies outside it (copy gradients out, unscale, step the
 * masters, copy back), as apex's O2 scheme does. If a DJL upgrade makes the cast differentiable,
 * this test fails and the simpler design becomes possible.
 */
class EngineCastFactTest {
    @Test
    void dtypeChangingToTypeIsNotDifferentiable() {
        try (NDManager m = NDManager.newBaseManager()) {
            NDArray w = m.create(new float[] {1f, -2f, 3f}, new Shape(3));
            w.setRequiresGradient(true);
            try (GradientCollector gc = Engine.getInstance().newGradientCollector()) {
                NDArray same = w.toType(DataType.FLOAT32, false); // a no-op cast keeps the graph
                gc.backward(same.mul(same).sum());
            }
            assertArrayEquals(new float[] {2f, -4f, 6f}, w.getGradient().toFloatArray());
            for (DataType t : new DataType[] {DataType.FLOAT16, DataType.FLOAT64}) {
                RuntimeException e = assertThrows(RuntimeException.class, () -> {
                    try (GradientCollector gc = Engine.getInstance().newGradientCollector()) {
                        NDArray c = w.toType(t, false);
                        gc.backward(c.mul(c).sum());
                    }
                }, t.toString());
                assertTrue(e.getMessage().contains("does not require grad"), e.getMessage());
            }
        }
    }

    /**
     * The two casts mixed precision uses instead ({@code LossOps.widen} / {@code LossOps.narrow}):
     * type promotion with a 1-element fp32 zero (up) and {@code set("...")}, libtorch's {@code copy_}
     * (down), both recorded by autograd, the gradient arriving in the source's dtype.
     */
    @Test
    void promotionAndCopyAreDifferentiableCasts() {
        try (NDManager m = NDManager.newBaseManager()) {
            NDArray w = m.create(new float[] {1f, 2f, 3f}).toType(DataType.FLOAT16, false);
            w.setRequiresGradient(true);
            try (GradientCollector gc = Engine.getInstance().newGradientCollector()) {
                NDArray up = ai.loro.core.loss.LossOps.widen(w); // fp32
                assertEquals(DataType.FLOAT32, up.getDataType());
                NDArray down = ai.loro.core.loss.LossOps.narrow(up.mul(up), DataType.FLOAT16); // w² in fp16
                assertEquals(DataType.FLOAT16, down.getDataType());
                NDArray weights = m.create(new float[] {1f, 10f, 100f}).toType(DataType.FLOAT16, false);
                gc.backward(ai.loro.core.loss.LossOps.widen(down.mul(weights)).sum());
            }
            NDArray g = w.getGradient();
            assertEquals(DataType.FLOAT16, g.getDataType());
            assertArrayEquals(new float[] {2f, 40f, 600f}, g.toType(DataType.FLOAT32, false).toFloatArray()); // d(c·w²)/dw = 2cw
        }
    }
}
