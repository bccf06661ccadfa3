package ai.loro.core.quant;

import static org.junit.jupiter.api.Assertions.*;

import ai.djl.Device;
import ai.djl.ndarray.BaseNDManager;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.loro.core.generate.Generator;
import ai.loro.core.generate.SamplingParams;
import ai.loro.core.model.HfNames;
import ai.loro.core.model.LlamaConfig;
import ai.loro.core.model.LlamaModel;
import ai.loro.core.model.ModelInit;
import ai.loro.core.model.Projection;
import ai.loro.core.model.QuantizedBase;
import ai.loro.core.model.TinyConfigs;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/** A quantized base: log-probs close to the unquantized model's, fp32 projections freed, no leaks per step. */
class QuantizedModelTest {
    static LlamaConfig config(double initRange) {
        ObjectNode j = TinyConfigs.json(512, 256, 688, 2, 4, 4);
        j.put("initializer_range", initRange);
        return TinyConfigs.parse(j);
    }

    static long[] tokens(int n, int vocab, long seed) {
        SplittableRandom rng = new SplittableRandom(seed);
        long[] ids = new long[n];
        for (int i = 0; i < n; i++) {
            ids[i] = rng.nextInt(vocab);
        }
        return ids;
    }

    static float[] logProbs(LlamaModel model, long[] ids, int batch) {
        try (NDManager m = model.manager().newSubManager()) {
            return model.tokenLogProbs(m.create(ids, new Shape(batch, ids.length / batch)), null).toFloatArray();
        }
    }

    @Test
    void logProbDeviationOfInt8AndNf4() {
        for (double initRange : new double[] {0.02}) { // the brief's small random model (hidden 256)
            LlamaConfig c = config(initRange);
            Map<String, float[]> w = ModelInit.randomWeights(c, 7);
            long[] ids = tokens(4 * 64, 512, 1);
            float[] ref;
            try (LlamaModel fp = LlamaModel.fromHost(c, w, DataType.FLOAT32, Device.cpu())) {
                ref = logProbs(fp, ids, 4);
            }
            double spread = 0;
            double mean = 0;
            for (float r : ref) {
                mean += r / ref.length;
            }
            for (float r : ref) {
                spread += (r - mean) * (r - mean) / ref.length;
            }
            double[] meanDev = new double[2];
            String[] modes = {"int8", "nf4"};
            for (int k = 0; k < 2; k++) {
                try (LlamaModel q = LlamaModel.fromHost(c, w, DataType.FLOAT32, Device.cpu())) {
                    QuantizedBase.QuantStats s = QuantizedBase.quantize(q, modes[k]);
                    float[] got = logProbs(q, ids, 4);
                    double sum = 0;
                    double max = 0;
                    for (int i = 0; i < ref.length; i++) {
                        double d = Math.abs(got[i] - ref[i]);
                        sum += d;
                        max = Math.max(max, d);
                    }
                    meanDev[k] = sum / ref.length;
                    System.out.printf("initializer_range %.2f, hidden 256, %s: mean |Δ logprob| %.3g, max %.3g"
                                    + " (logprob mean %.3f, std %.3g); %.4f bytes/projection parameter%n",
                            initRange, modes[k], meanDev[k], max, mean, Math.sqrt(spread), s.bytes() / (double) s.parameters());
                    // measured: int8 mean 0.0042 / max 0.016, nf4 mean 0.050 / max 0.18 (log-prob std 0.30)
                    assertTrue(meanDev[k] < (k == 0 ? 0.015 : 0.1), modes[k] + " mean |Δ logprob| " + meanDev[k]);
                    assertTrue(max < (k == 0 ? 0.05 : 0.4), modes[k] + " max |Δ logprob| " + max);
                }
            }
            assertTrue(meanDev[0] < meanDev[1], "int8 is closer than nf4: " + meanDev[0] + " vs " + meanDev[1]);
        }
    }

    @Test
    void quantizingFreesTheFp32ProjectionsAndKeepsTheRest() {
        LlamaConfig c = config(0.02);
        try (LlamaModel model = LlamaModel.fromHost(c, ModelInit.randomWeights(c, 3), DataType.FLOAT32, Device.cpu())) {
            List<NDArray> fp = new ArrayList<>();
            for (int l = 0; l < c.numHiddenLayers(); l++) {
                for (HfNames.Proj p : HfNames.Proj.values()) {
                    fp.add(model.layer(l).projection(p).weight());
                }
            }
            NDArray embed = model.parameters().get(HfNames.EMBED);
            QuantizedBase.QuantStats s = QuantizedBase.quantize(model, "nf4");
            assertEquals(7 * c.numHiddenLayers(), s.projections());
            assertEquals("nf4", QuantizedBase.mode(model));
            for (NDArray a : fp) {
                assertTrue(a.isReleased(), a.getName() + " still allocated");
            }
            assertFalse(embed.isReleased());
            for (int l = 0; l < c.numHiddenLayers(); l++) {
                for (HfNames.Proj p : HfNames.Proj.values()) {
                    Projection proj = model.layer(l).projection(p);
                    assertNull(proj.weight());
                    assertEquals(new Shape(p.outFeatures(c), p.inFeatures(c)), proj.weightShape());
                    assertInstanceOf(Nf4Weights.class, proj.quantized());
                    assertFalse(model.parameters().containsKey(HfNames.weight(l, p)));
                }
            }
            assertEquals(7 * c.numHiddenLayers(), QuantizedBase.weights(model).size());
            // embeddings, norms (and a tied head) stay in the compute dtype
            assertEquals(DataType.FLOAT32, model.parameters().get(HfNames.EMBED).getDataType());
            assertEquals(DataType.FLOAT32, model.parameters().get(HfNames.inputNorm(0)).getDataType());
            long params = 0;
            for (QuantizedWeight q : QuantizedBase.weights(model).values()) {
                params += q.shape().size();
            }
            assertEquals(params, s.parameters());
            assertTrue(s.bytes() <= 0.6 * params, s.bytes() + " bytes for " + params);
            // the full state dict comes back dequantized, in transformers' order
            try (NDManager out = model.manager().newSubManager()) {
                Map<String, NDArray> all = QuantizedBase.fullPrecisionParameters(model, out);
                assertEquals(List.copyOf(HfNames.expectedTensors(c).keySet()), List.copyOf(all.keySet()));
                String q0 = HfNames.weight(0, HfNames.Proj.Q);
                assertEquals(new Shape(c.hiddenSize(), c.hiddenSize()), all.get(q0).getShape());
                assertEquals(DataType.FLOAT32, all.get(q0).getDataType());
                NDArray again = QuantizedBase.weights(model).get(q0).dequantize(out);
                assertArrayEquals(again.toFloatArray(), all.get(q0).toFloatArray());
            }
            assertThrows(IllegalStateException.class, () -> QuantizedBase.quantize(model, "int8"));
        }
    }

    @Test
    void forwardAndGenerationOnAQuantizedBaseLeaveNothingBehind() {
        for (String mode : new String[] {"int8", "nf4"}) {
            LlamaConfig c = TinyConfigs.parse(TinyConfigs.json(97, 32, 48, 2, 4, 2));
            try (LlamaModel model = LlamaModel.fromHost(c, ModelInit.randomWeights(c, 1), DataType.FLOAT32, Device.cpu())) {
                QuantizedBase.quantize(model, mode);
                Generator gen = new Generator(model, Set.of(), null);
                gen.generate(List.of(new long[] {1, 2, 3}, new long[] {4}), SamplingParams.greedy(4)); // warm caches
                int arrays = model.manager().getManagedArrays().size();
                ((BaseNDManager) model.manager()).cap(); // a dequantized temporary on the model's manager would throw
                assertThrows(IllegalStateException.class, () -> model.manager().create(1f), "the cap is armed");
                long[] ids = tokens(2 * 16, 97, 2);
                for (int i = 0; i < 5; i++) {
                    try (NDScope scope = new NDScope(); NDManager m = model.manager().newSubManager()) {
                        scope.suppressNotUsedWarning();
                        model.tokenLogProbs(m.create(ids, new Shape(2, 16)), null).sum().getFloat();
                    }
                }
                gen.generate(List.of(new long[] {1, 2, 3}, new long[] {4}), SamplingParams.greedy(8));
                assertEquals(arrays, model.manager().getManagedArrays().size(), mode + ": arrays left on the model's manager");
            }
        }
    }
}
