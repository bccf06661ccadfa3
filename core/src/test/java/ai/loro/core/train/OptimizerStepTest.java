package ai.loro.core.train;

import static org.junit.jupiter.api.Assertions.*;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.loro.core.LoroException;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The update rules TrainLoop and PPO share, on one parameter w with loss = c·Σw (gradient c everywhere). */
class OptimizerStepTest {
    /** One pass with loss c·Σw; returns the loss as a double. */
    private static double backward(OptimizerStep step, NDArray w, double c) {
        try (OptimizerStep.Pass pass = step.pass()) {
            NDArray loss = w.sum().mul(c);
            pass.backward(loss);
            return loss.toType(DataType.FLOAT64, false).getDouble();
        }
    }

    @Test
    void clipsToTheNormThenStepsAndZeroesTheGradients() {
        try (NDManager m = NDManager.newBaseManager()) {
            NDArray w = m.create(new float[] {1, 2, 3, 4});
            w.setRequiresGradient(true);
            try (AdamW opt = new AdamW(Map.of("w", w), AdamW.Options.defaults())) {
                OptimizerStep step = new OptimizerStep(opt, null, 1.0);
                double loss = backward(step, w, 3.0);
                double norm = step.clip(0.5); // 0.5 · (3, 3, 3, 3): norm 0.5 · 3 · 2 = 3
                assertEquals(3.0, norm, 1e-6);
                // clipped to norm 1: each element 1.5 · (1 / (3 + 1e-6)) = 0.5
                assertArrayEquals(new float[] {0.5f, 0.5f, 0.5f, 0.5f}, opt.gradients().get(0).toFloatArray(), 1e-6f);
                OptimizerStep.Outcome o = step.apply(loss, norm, 0.1, (l, n) -> "unused");
                assertFalse(o.skipped());
                assertEquals(1.0, o.lossScale());
                assertEquals(1, opt.stepCount());
                // AdamW's first step moves each weight by lr · sign(g) (m/√v = 1, up to eps)
                assertArrayEquals(new float[] {0.9f, 1.9f, 2.9f, 3.9f}, w.toFloatArray(), 1e-5f);
                assertArrayEquals(new float[4], opt.gradients().get(0).toFloatArray());
            }
        }
    }

    @Test
    void nonFiniteLossStopsWithTheCallersMessageAndZeroedGradients() {
        try (NDManager m = NDManager.newBaseManager()) {
            NDArray w = m.create(new float[] {1, 2});
            w.setRequiresGradient(true);
            try (AdamW opt = new AdamW(Map.of("w", w), AdamW.Options.defaults())) {
                OptimizerStep step = new OptimizerStep(opt, null, 0);
                backward(step, w, 1.0);
                LoroException e = assertThrows(LoroException.class, () -> step.step(Double.NaN, 0.1,
                        (loss, norm) -> "loss " + loss + ", norm " + norm));
                assertEquals("loss NaN, norm " + (double) (float) Math.sqrt(2), e.getMessage()); // the fp32 norm of (1, 1)
                assertEquals(0, opt.stepCount());
                assertArrayEquals(new float[2], opt.gradients().get(0).toFloatArray());
                assertArrayEquals(new float[] {1, 2}, w.toFloatArray());
            }
        }
    }

    @Test
    void fp16OverflowSkipsTheUpdateAndBacksOff() {
        try (NDManager m = NDManager.newBaseManager()) {
            NDArray w = m.create(new float[] {1, 2}).toType(DataType.FLOAT16, false);
            w.setRequiresGradient(true);
            try (AdamW opt = new AdamW(Map.of("w", w), AdamW.Options.defaults())) {
                LossScaler scaler = new LossScaler(65536, 2, 0.5, 2000);
                OptimizerStep step = new OptimizerStep(opt, scaler, 1.0);
                double loss = backward(step, w, 1.0); // gradient 65536 per element: beyond fp16's 65504
                OptimizerStep.Outcome o = step.step(loss, 0.1, (l, n) -> "unused");
                assertTrue(o.skipped());
                assertFalse(Double.isFinite(o.gradNorm()));
                assertEquals(65536, o.lossScale());
                assertEquals(32768, scaler.scale());
                assertEquals(0, opt.stepCount());
                backward(step, w, 1.0); // 32768 fits: the step goes through at the backed-off scale
                o = step.step(loss, 0.1, (l, n) -> "unused");
                assertFalse(o.skipped());
                assertEquals(Math.sqrt(2), o.gradNorm(), 1e-6);
                assertEquals(32768, o.lossScale());
                assertEquals(1, opt.stepCount());
            }
        }
    }
}
