package ai.loro.core.quant;

import static org.junit.jupiter.api.Assertions.*;

import ai.djl.ndarray.BaseNDManager;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import org.junit.jupiter.api.Test;

/** NF4: nearest-level codes against a naive search, exact nibble packing, double-quantized scales, storage. */
class Nf4WeightsTest {
    /** The 16 levels, written out independently of Nf4Weights.LEVELS (bitsandbytes' get_4bit_type("nf4")). */
    static final double[] NF4 = {-1.0, -0.6961928009986877, -0.5250730514526367, -0.39491748809814453,
        -0.28444138169288635, -0.18477343022823334, -0.09105003625154495, 0.0, 0.07958029955625534,
        0.16093020141124725, 0.24611230194568634, 0.33791524171829224, 0.44070982933044434, 0.5626170039176941,
        0.7229568362236023, 1.0};

    /** Naive codebook search: the index of the level nearest to x (first on ties). */
    static int naiveCode(double[] levels, double x) {
        int best = 0;
        for (int k = 1; k < levels.length; k++) {
            if (Math.abs(x - levels[k]) < Math.abs(x - levels[best])) {
                best = k;
            }
        }
        return best;
    }

    /** Naive NF4 of a flat array: per block of 64, absmax and nearest level; returns the dequantized values. */
    static double[] naiveNf4(float[] v) {
        double[] out = new double[v.length];
        for (int start = 0; start < v.length; start += 64) {
            int end = Math.min(v.length, start + 64);
            double absmax = 0;
            for (int i = start; i < end; i++) {
                absmax = Math.max(absmax, Math.abs(v[i]));
            }
            for (int i = start; i < end; i++) {
                out[i] = absmax == 0 ? 0 : NF4[naiveCode(NF4, v[i] / absmax)] * absmax;
            }
        }
        return out;
    }

    @Test
    void levelsAreBitsandbytesTable() {
        for (int k = 0; k < 16; k++) {
            assertEquals((float) NF4[k], Nf4Weights.LEVELS[k]);
        }
    }

    @Test
    void nibblePackingIsExact() {
        byte[] all = new byte[256];
        for (int hi = 0; hi < 16; hi++) {
            for (int lo = 0; lo < 16; lo++) {
                byte b = Nf4Weights.pack(hi, lo);
                assertEquals(hi * 16 + lo, b & 0xFF);
                all[hi * 16 + lo] = b;
            }
        }
        int[] codes = Nf4Weights.unpack(all);
        for (int i = 0; i < 256; i++) {
            assertEquals(i >>> 4, codes[2 * i]);
            assertEquals(i & 15, codes[2 * i + 1]);
        }
        // the packed codes of a real quantization are exactly the naive codes, first element in the high nibble
        float[] v = Int8WeightsTest.gaussian(64 * 40 + 10, 1.0, 3);
        int[] got = Nf4Weights.unpack(Nf4Weights.quantizeHost(v, false).packed());
        assertEquals(64 * 41, got.length);
        for (int start = 0; start < v.length; start += 64) {
            int end = Math.min(v.length, start + 64);
            float absmax = 0;
            for (int i = start; i < end; i++) {
                absmax = Math.max(absmax, Math.abs(v[i]));
            }
            for (int i = start; i < start + 64; i++) {
                int want = i < end ? naiveCode(NF4, v[i] / absmax) : 7; // padding codes 0.0
                double x = i < end ? v[i] / absmax : 0;
                if (got[i] != want) { // only a float tie at a midpoint may differ
                    assertEquals(Math.abs(x - NF4[want]), Math.abs(x - NF4[got[i]]), 1e-6, "element " + i);
                }
            }
        }
    }

    @Test
    void everyValueMapsToNearestLevelTimesBlockAbsmax() {
        for (int[] shape : new int[][] {{512, 1376}, {37, 29}}) { // 37·29 is not a multiple of 64: a padded last block
            int n = shape[0] * shape[1];
            float[] v = Int8WeightsTest.gaussian(n, 0.02, 5);
            double[] want = naiveNf4(v);
            try (NDManager store = NDManager.newBaseManager()) {
                Nf4Weights q = Nf4Weights.quantize(store.create(v, new Shape(shape[0], shape[1])), store, false);
                ((BaseNDManager) store).cap();
                float[] got;
                try (NDManager step = store.newSubManager()) {
                    NDArray d = q.dequantize(step);
                    assertEquals(new Shape(shape[0], shape[1]), d.getShape());
                    got = d.toFloatArray();
                }
                int ties = 0;
                for (int i = 0; i < n; i++) {
                    if (Math.abs(got[i] - want[i]) > 1e-7 * Math.max(1e-3, Math.abs(want[i]))) {
                        ties++; // allowed only at an exact midpoint; there are none in practice
                    }
                }
                assertEquals(0, ties, "elements off their nearest level");
                double bpp = q.bytesPerParameter();
                System.out.printf("nf4 (no double quant) %dx%d: %.4f bytes/parameter%n", shape[0], shape[1], bpp);
            }
        }
    }

    @Test
    void doubleQuantizedScalesWithinBounds() {
        int rows = 512;
        int cols = 1376;
        float[] v = Int8WeightsTest.gaussian(rows * cols, 0.02, 9);
        Nf4Weights.Host plain = Nf4Weights.quantizeHost(v, false);
        Nf4Weights.Host dq = Nf4Weights.quantizeHost(v, true);
        float[] absmax = plain.absmax();
        float[] recon = dq.scales();
        double[] dyn = new double[256];
        double maxGap = 0;
        for (int k = 0; k < 256; k++) {
            dyn[k] = Nf4Weights.DYNAMIC_MAP[k];
            if (k > 0) {
                maxGap = Math.max(maxGap, dyn[k] - dyn[k - 1]);
            }
        }
        assertEquals(-0.99296875, dyn[0], 1e-6); // bitsandbytes' create_dynamic_map(signed=True) ends
        assertEquals(1.0, dyn[255]);
        assertEquals(0.0, dyn[127]);
        double offset = 0;
        for (float a : absmax) {
            offset += a;
        }
        offset /= absmax.length;
        assertEquals(offset, dq.offset(), 1e-6);
        double maxRel = 0;
        for (int b = 0; b < absmax.length; b++) {
            double a2 = dq.absmax2()[b / 256];
            double x = (absmax[b] - dq.offset()) / a2;
            int code = naiveCode(dyn, x);
            assertEquals(dyn[code] * a2 + dq.offset(), recon[b], 1e-6 * absmax[b] + 1e-9, "block " + b);
            assertTrue(Math.abs(recon[b] - absmax[b]) <= Math.abs(x - dyn[code]) * a2 + 1e-7, "block " + b);
            assertTrue(Math.abs(recon[b] - absmax[b]) <= maxGap / 2 * a2 + 1e-7, "block " + b);
            maxRel = Math.max(maxRel, Math.abs(recon[b] - absmax[b]) / absmax[b]);
        }
        System.out.printf("double quantization: max relative scale error %.5f over %d blocks%n", maxRel, absmax.length);
        assertTrue(maxRel < 0.02, "max relative error of reconstructed scales " + maxRel);
        // the device path rebuilds the same scales and weights
        try (NDManager store = NDManager.newBaseManager()) {
            Nf4Weights q = Nf4Weights.quantize(store.create(v, new Shape(rows, cols)), store, true);
            assertTrue(q.doubleQuantized());
            ((BaseNDManager) store).cap();
            try (NDManager step = store.newSubManager()) {
                float[] s = q.blockScales(step).toFloatArray();
                for (int b = 0; b < s.length; b++) {
                    assertEquals(recon[b], s[b], 1e-6 * recon[b]);
                }
                float[] d = q.dequantize(step).toFloatArray();
                int[] codes = Nf4Weights.unpack(dq.packed());
                for (int i = 0; i < d.length; i++) {
                    assertEquals(NF4[codes[i]] * recon[i / 64], d[i], 1e-6 * recon[i / 64]);
                }
            }
        }
    }

    @Test
    void bytesPerParameterOnARealisticShape() {
        int rows = 512;
        int cols = 1376;
        float[] v = Int8WeightsTest.gaussian(rows * cols, 0.02, 11);
        try (NDManager store = NDManager.newBaseManager()) {
            NDArray w = store.create(v, new Shape(rows, cols));
            Nf4Weights dq = Nf4Weights.quantize(w, store, true);
            Nf4Weights plain = Nf4Weights.quantize(w, store, false);
            long n = (long) rows * cols;
            assertEquals(n / 2 + n / 64 + 4 * (n / 64 / 256) + 4, dq.storageBytes());
            assertEquals(n / 2 + 4 * (n / 64), plain.storageBytes());
            System.out.printf("nf4 %dx%d: %.4f bytes/parameter with double quantization (%.3fx fp16), %.4f without%n",
                    rows, cols, dq.bytesPerParameter(), dq.bytesPerParameter() / 2, plain.bytesPerParameter());
            assertTrue(dq.bytesPerParameter() <= 0.6 && dq.bytesPerParameter() / 2 <= 0.3, "nf4 " + dq.bytesPerParameter());
            assertTrue(plain.bytesPerParameter() <= 0.6, "nf4 " + plain.bytesPerParameter());
            NDArray w16 = w.toType(DataType.FLOAT16, false);
            try (NDManager step = store.newSubManager()) {
                NDArray d = Nf4Weights.quantize(w16, store, true).dequantize(step);
                assertEquals(DataType.FLOAT16, d.getDataType());
            }
        }
    }
}
