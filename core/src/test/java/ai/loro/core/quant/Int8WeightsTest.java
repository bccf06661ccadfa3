package ai.loro.core.quant;

import static org.junit.jupiter.api.Assertions.*;

import ai.djl.ndarray.BaseNDManager;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/** Per-row absmax int8: error within half a step per element, storage ~1 byte per parameter. */
class Int8WeightsTest {
    static float[] gaussian(int n, double std, long seed) {
        SplittableRandom rng = new SplittableRandom(seed);
        float[] v = new float[n];
        for (int i = 0; i < n; i++) {
            double u1 = rng.nextDouble();
            double u2 = rng.nextDouble();
            v[i] = (float) (std * Math.sqrt(-2 * Math.log(1 - u1)) * Math.cos(2 * Math.PI * u2));
        }
        return v;
    }

    @Test
    void roundTripWithinHalfAStepPerRow() {
        int rows = 512;
        int cols = 1376;
        float[] v = gaussian(rows * cols, 0.02, 1);
        v[5] = 0.9f; // an outlier widens its row's step only
        for (int c = 0; c < cols; c++) {
            v[7 * cols + c] = 0; // an all-zero row
        }
        try (NDManager store = NDManager.newBaseManager()) {
            NDArray w = store.create(v, new Shape(rows, cols));
            Int8Weights q = Int8Weights.quantize(w, store);
            ((BaseNDManager) store).cap(); // dequantizing must not leave anything on the store
            float[] deq;
            float[] scales = q.scales().toFloatArray();
            byte[] codes = q.codes().toByteArray();
            try (NDManager step = store.newSubManager()) {
                NDArray d = q.dequantize(step);
                assertEquals(DataType.FLOAT32, d.getDataType());
                assertEquals(new Shape(rows, cols), d.getShape());
                deq = d.toFloatArray();
            }
            for (int r = 0; r < rows; r++) {
                float absmax = 0;
                for (int c = 0; c < cols; c++) {
                    absmax = Math.max(absmax, Math.abs(v[r * cols + c]));
                }
                assertEquals(absmax / 127f, scales[r], 1e-12);
                for (int c = 0; c < cols; c++) {
                    int i = r * cols + c;
                    assertTrue(codes[i] >= -127, "code " + codes[i]);
                    double err = Math.abs(v[i] - deq[i]);
                    assertTrue(err <= scales[r] / 2 * (1 + 1e-5) + 1e-12, "row " + r + " col " + c + ": |w - deq| = " + err
                            + " > scale/2 = " + scales[r] / 2);
                }
            }
            for (int c = 0; c < cols; c++) {
                assertEquals(0f, deq[7 * cols + c]);
            }
            double bpp = q.bytesPerParameter();
            System.out.printf("int8 %dx%d: %.4f bytes/parameter (%.3fx fp16)%n", rows, cols, bpp, bpp / 2);
            assertTrue(bpp <= 1.1 && bpp / 2 <= 0.55, "int8 bytes/parameter " + bpp);
            assertEquals((long) rows * cols + 4L * rows, q.storageBytes());
            // fp16 compute dtype: the same values, cast
        }
        try (NDManager store = NDManager.newBaseManager()) {
            NDArray w16 = store.create(v, new Shape(rows, cols)).toType(DataType.FLOAT16, false);
            Int8Weights q16 = Int8Weights.quantize(w16, store);
            try (NDManager step = store.newSubManager()) {
                assertEquals(DataType.FLOAT16, q16.dequantize(step).getDataType());
            }
        }
    }
}
