package ai.loro.lora;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.loro.core.model.LlamaConfig;
import ai.loro.core.model.LlamaModel;
import ai.loro.core.model.ModelInit;
import ai.loro.core.model.TinyConfigs;
import java.util.Map;
import java.util.Random;

/** Tiny models and inputs shared by the LoRA tests. */
final class LoraFixtures {
    private LoraFixtures() {}

    static final LlamaConfig CONFIG = TinyConfigs.gqa(); // vocab 37, hidden 16, inter 24, 2 layers, 4/2 heads
    static final long[] IDS = {1, 5, 9, 3, 3, 30, 2, 0, 0, 7, 11, 12, 13, 36, 4, 2};
    static final long[] MASK = {1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 1, 1, 1, 1, 1, 1}; // row 1 left-padded

    static LlamaModel model(DataType dtype) {
        return model(CONFIG, dtype, 3);
    }

    static LlamaModel model(LlamaConfig c, DataType dtype, long seed) {
        Map<String, float[]> w = ModelInit.randomWeights(c, seed);
        return LlamaModel.fromHost(c, w, dtype, Device.cpu());
    }

    /** Token log-probs (2, 7) of the fixed batch, as doubles. */
    static double[] logProbs(LlamaModel model) {
        try (NDManager m = model.manager().newSubManager()) {
            NDArray ids = m.create(IDS, new Shape(2, 8));
            NDArray mask = m.create(MASK, new Shape(2, 8));
            return model.tokenLogProbs(ids, mask).toType(DataType.FLOAT64, false).toDoubleArray();
        }
    }

    /** Fills every A and B of the adapter with N(0, std) values from {@code seed} (B no longer zero). */
    static void randomize(LoraAdapter adapter, long seed, double std) {
        Random rng = new Random(seed);
        for (NDArray p : adapter.parameters().values()) {
            double[] v = new double[(int) p.size()];
            for (int i = 0; i < v.length; i++) {
                v[i] = rng.nextGaussian() * std;
            }
            set(p, v);
        }
    }

    static void set(NDArray p, double[] v) {
        try (NDManager m = p.getManager().newSubManager()) {
            NDArray src = m.create(v, p.getShape()).toType(p.getDataType(), false);
            p.set(src.toByteBuffer());
        }
    }

    static double maxAbsDiff(double[] a, double[] b) {
        if (a.length != b.length) {
            throw new AssertionError("length " + a.length + " != " + b.length);
        }
        double d = 0;
        for (int i = 0; i < a.length; i++) {
            d = Math.max(d, Math.abs(a[i] - b[i]));
        }
        return d;
    }
}
