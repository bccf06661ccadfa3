package ai.loro.core.model;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import java.util.Map;

/** Builds the same random model twice: as {@link NaiveLlama} (fp64 loops) and as {@link LlamaModel}. */
final class ModelFixtures {
    private ModelFixtures() {}

    static NaiveLlama.Dims dims(LlamaConfig c) {
        return new NaiveLlama.Dims(c.vocabSize(), c.hiddenSize(), c.intermediateSize(), c.numHiddenLayers(),
                c.numAttentionHeads(), c.numKeyValueHeads(), c.headDim(), c.rmsNormEps(), c.tieWordEmbeddings(),
                c.qkvBias(), c.mlpBias());
    }

    static Map<String, double[]> weights(LlamaConfig c, long seed) {
        return NaiveLlama.randomWeights(dims(c), seed, 0.3);
    }

    static NaiveLlama naive(LlamaConfig c, Map<String, double[]> w) {
        return new NaiveLlama(dims(c), Rope.invFreq(c, false), w);
    }

    static LlamaModel djl(LlamaConfig c, Map<String, double[]> w, DataType dtype) {
        NDManager manager = NDManager.newBaseManager();
        Map<String, long[]> shapes = HfNames.expectedTensors(c);
        return LlamaModel.create(c, dtype, Device.cpu(), name -> {
            NDArray a = manager.create(w.get(name), new Shape(shapes.get(name)));
            return dtype == DataType.FLOAT64 ? a : a.toType(dtype, false);
        }, manager);
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

    static double[] flatten(double[][] rows) {
        int n = 0;
        for (double[] r : rows) {
            n += r.length;
        }
        double[] out = new double[n];
        int o = 0;
        for (double[] r : rows) {
            System.arraycopy(r, 0, out, o, r.length);
            o += r.length;
        }
        return out;
    }
}
