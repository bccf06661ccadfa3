package ai.loro.core.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.SparseFormat;
import ai.djl.ndarray.types.Shape;

/**
 * Rotary position embedding frequencies and cos/sin tables, in the Hugging Face convention
 * (docs/llama-math.md): {@code emb = cat(freqs, freqs)}, rotate_half pairs element i with i + d/2.
 *
 * <p>In fp32 the tables are computed the way transformers computes them (inverse frequencies and
 * {@code position * inv_freq} rounded to float32, then cos/sin of that float), so long positions
 * match transformers rather than an idealised fp64 value. In fp64 (gradient checks) everything
 * stays double.
 */
public final class Rope {
    private final double[] invFreq;
    private final DataType dtype;
    private final NDManager manager;
    private NDArray cos; // (P, D)
    private NDArray sin; // (P, D)
    private int capacity;

    public Rope(LlamaConfig config, NDManager manager, DataType dtype) {
        this.invFreq = invFreq(config, dtype != DataType.FLOAT64);
        this.dtype = dtype;
        this.manager = manager;
    }

    /**
     * Inverse frequencies {@code 1 / theta^(2i/d)}, i = 0..d/2-1, with the config's scaling.
     *
     * @param float32 round every intermediate to float32 as transformers' tensors do
     */
    public static double[] invFreq(LlamaConfig c, boolean float32) {
        int d = c.headDim();
        double[] inv = new double[d / 2];
        for (int i = 0; i < inv.length; i++) {
            if (float32) {
                float exponent = (float) (2 * i) / (float) d;
                float p = (float) Math.pow((float) c.ropeTheta(), exponent);
                inv[i] = 1.0f / p;
            } else {
                inv[i] = 1.0 / Math.pow(c.ropeTheta(), (double) (2 * i) / d);
            }
        }
        LlamaConfig.RopeScaling s = c.ropeScaling();
        switch (s.type()) {
            case "linear" -> {
                for (int i = 0; i < inv.length; i++) {
                    inv[i] = round(inv[i] / s.factor(), float32);
                }
            }
            case "llama3" -> {
                // transformers _compute_llama3_parameters
                double lowWavelen = s.originalMaxPositionEmbeddings() / s.lowFreqFactor();
                double highWavelen = s.originalMaxPositionEmbeddings() / s.highFreqFactor();
                for (int i = 0; i < inv.length; i++) {
                    double wavelen = round(2 * Math.PI / inv[i], float32);
                    if (wavelen > lowWavelen) {
                        inv[i] = round(inv[i] / s.factor(), float32);
                    } else if (wavelen >= highWavelen) {
                        double smooth = round((s.originalMaxPositionEmbeddings() / wavelen - s.lowFreqFactor())
                                / (s.highFreqFactor() - s.lowFreqFactor()), float32);
                        // (1 - smooth) * inv / factor + smooth * inv, evaluated left to right as torch does
                        double low = round(round(round(1 - smooth, float32) * inv[i], float32) / s.factor(), float32);
                        inv[i] = round(low + round(smooth * inv[i], float32), float32);
                    }
                }
            }
            default -> { }
        }
        return inv;
    }

    /** A long-lived table: kept out of any step's {@link ai.djl.ndarray.NDScope}. */
    private NDArray table(double[] values, int p, int d) {
        NDArray wide = manager.create(values, new Shape(p, d));
        NDArray t = wide.toType(dtype, false);
        if (t != wide) {
            wide.close();
        }
        ai.djl.ndarray.NDScope.unregister(t);
        return t;
    }

    private static double round(double v, boolean float32) {
        return float32 ? (float) v : v;
    }

    /** cos and sin rows for the given positions: each (B, 1, T, D), ready to broadcast over heads. */
    public NDArray[] cosSin(NDArray positions, long maxPosition) {
        ensureCapacity(maxPosition + 1);
        NDArray c = ai.djl.nn.core.Embedding.embedding(positions, cos, SparseFormat.DENSE).singletonOrThrow(); // (B, T, D)
        NDArray s = ai.djl.nn.core.Embedding.embedding(positions, sin, SparseFormat.DENSE).singletonOrThrow();
        return new NDArray[] {c.expandDims(1), s.expandDims(1)};
    }

    private void ensureCapacity(long needed) {
        if (needed <= capacity) {
            return;
        }
        int p = Math.max(256, Integer.highestOneBit((int) Math.min(Integer.MAX_VALUE / 2, needed - 1)) << 1);
        int half = invFreq.length;
        int d = 2 * half;
        boolean f32 = dtype != DataType.FLOAT64;
        double[] cosV = new double[p * d];
        double[] sinV = new double[p * d];
        for (int pos = 0; pos < p; pos++) {
            for (int i = 0; i < half; i++) {
                double angle = f32 ? (float) ((float) pos * (float) invFreq[i]) : pos * invFreq[i];
                double cv = Math.cos(angle);
                double sv = Math.sin(angle);
                cosV[pos * d + i] = cv;
                cosV[pos * d + i + half] = cv;
                sinV[pos * d + i] = sv;
                sinV[pos * d + i + half] = sv;
            }
        }
        if (cos != null) {
            cos.close();
            sin.close();
        }
        cos = table(cosV, p, d);
        sin = table(sinV, p, d);
        capacity = p;
    }
}
