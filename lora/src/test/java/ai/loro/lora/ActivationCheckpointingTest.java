package ai.loro.lora;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.GradientCollector;
import ai.loro.core.model.ActivationCheckpoints;
import ai.loro.core.model.LlamaConfig;
import ai.loro.core.model.LlamaModel;
import ai.loro.core.model.QuantizedBase;
import ai.loro.core.model.TinyConfigs;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Random;
import java.util.function.Function;
import org.junit.jupiter.api.Test;

/**
 * Activation checkpointing re-runs each layer during the backward pass: the gradients must be the
 * gradients of the plain pass (same model, same loss), for full fine-tuning (embedding, tied and
 * untied heads), LoRA with dropout (the recomputation must draw the same masks) and a quantized base.
 */
class ActivationCheckpointingTest {
    private static final int B = 2;
    private static final int T = 8;

    @Test
    void fullFineTuningGradientsEqualThePlainPassInFp64() {
        for (boolean tied : new boolean[] {true, false}) {
            var json = TinyConfigs.json(37, 16, 24, 3, 4, 2);
            json.put("tie_word_embeddings", tied);
            LlamaConfig c = TinyConfigs.parse(json);
            Map<String, double[]> plain = fullGradients(c, false);
            Map<String, double[]> checkpointed = fullGradients(c, true);
            assertEquals(plain.keySet(), checkpointed.keySet());
            for (String name : plain.keySet()) {
                double scale = maxAbs(plain.get(name));
                assertTrue(scale > 0, name + " has no gradient");
                double d = LoraFixtures.maxAbsDiff(plain.get(name), checkpointed.get(name));
                assertTrue(d <= 1e-12 * Math.max(1, scale), "tied=" + tied + " " + name + ": |Δgrad| " + d);
            }
        }
    }

    @Test
    void onlyUpperLayersTrainingStopsTheRecomputationBelowThem() {
        LlamaConfig c = TinyConfigs.parse(TinyConfigs.json(37, 16, 24, 3, 4, 2));
        Map<String, double[]> plain = fullGradients(c, false, "model.layers.2.");
        Map<String, double[]> checkpointed = fullGradients(c, true, "model.layers.2.");
        assertEquals(plain.keySet(), checkpointed.keySet());
        assertTrue(plain.keySet().stream().allMatch(k -> k.startsWith("model.layers.2.")), plain.keySet().toString());
        for (String name : plain.keySet()) {
            assertTrue(maxAbs(plain.get(name)) > 0, name);
            assertTrue(LoraFixtures.maxAbsDiff(plain.get(name), checkpointed.get(name)) <= 1e-12, name);
        }
    }

    private static Map<String, double[]> fullGradients(LlamaConfig c, boolean checkpointing) {
        return fullGradients(c, checkpointing, "");
    }

    /** Gradients of the parameters whose names start with {@code trainedPrefix} (the others frozen). */
    private static Map<String, double[]> fullGradients(LlamaConfig c, boolean checkpointing, String trainedPrefix) {
        try (LlamaModel model = LoraFixtures.model(c, DataType.FLOAT64, 4)) {
            model.setGradientCheckpointing(checkpointing);
            model.setLogitsChunkTokens(5); // 2 × 7 predictions: chunks of 5, 5 and 4
            model.parameters().forEach((k, p) -> {
                if (k.startsWith(trainedPrefix)) {
                    p.setRequiresGradient(true);
                }
            });
            backward(model, m -> m.tokenLogProbs(ids(model), mask(model)));
            Map<String, double[]> grads = new LinkedHashMap<>();
            model.parameters().forEach((k, v) -> {
                if (k.startsWith(trainedPrefix)) {
                    grads.put(k, v.getGradient().toDoubleArray());
                }
            });
            return grads;
        }
    }

    @Test
    void loraWithDropoutRecomputesTheSameMasks() {
        Map<String, double[]> plain = loraGradients(false, "none", 0.2);
        Map<String, double[]> checkpointed = loraGradients(true, "none", 0.2);
        Map<String, double[]> noDropout = loraGradients(false, "none", 0.0);
        double maxDiffToNoDropout = 0;
        for (String name : plain.keySet()) {
            double d = LoraFixtures.maxAbsDiff(plain.get(name), checkpointed.get(name));
            assertTrue(d <= 2e-5 * Math.max(1, maxAbs(plain.get(name))), name + ": |Δgrad| " + d);
            maxDiffToNoDropout = Math.max(maxDiffToNoDropout, LoraFixtures.maxAbsDiff(plain.get(name), noDropout.get(name)));
        }
        assertTrue(maxDiffToNoDropout > 1e-3, "dropout had no effect: " + maxDiffToNoDropout);
    }

    @Test
    void quantizedBaseGradientsEqualThePlainPass() {
        for (String mode : new String[] {"int8", "nf4"}) {
            Map<String, double[]> plain = loraGradients(false, mode, 0.0);
            Map<String, double[]> checkpointed = loraGradients(true, mode, 0.0);
            for (String name : plain.keySet()) {
                double d = LoraFixtures.maxAbsDiff(plain.get(name), checkpointed.get(name));
                assertTrue(d <= 2e-5 * Math.max(1, maxAbs(plain.get(name))), mode + " " + name + ": |Δgrad| " + d);
            }
        }
    }

    private static Map<String, double[]> loraGradients(boolean checkpointing, String quantize, double dropout) {
        try (LlamaModel model = LoraFixtures.model(TinyConfigs.parse(TinyConfigs.json(37, 32, 48, 3, 4, 2)), DataType.FLOAT32, 6);
             LoraAdapter adapter = LoraAdapter.create(model, LoraConfig.of(4, 8, dropout, "all-linear"), 3)) {
            QuantizedBase.quantize(model, quantize);
            LoraFixtures.randomize(adapter, 9, 0.2);
            adapter.attach(model);
            adapter.setTraining(true);
            adapter.setStep(5);
            model.setGradientCheckpointing(checkpointing);
            model.setLogitsChunkTokens(3);
            backward(model, m -> m.tokenLogProbs(ids(model), mask(model)));
            for (NDArray p : model.parameters().values()) {
                assertFalse(p.hasGradient(), p.getName() + " is frozen and must not get a gradient");
            }
            Map<String, double[]> grads = new LinkedHashMap<>();
            adapter.parameters().forEach((k, v) -> grads.put(k, v.getGradient().toType(DataType.FLOAT64, false).toDoubleArray()));
            return grads;
        }
    }

    @Test
    void chunkedLogProbsEqualTheFullLogitsPath() {
        try (LlamaModel model = LoraFixtures.model(DataType.FLOAT64);
             LoraAdapter adapter = LoraAdapter.create(model, LoraConfig.of(4, 8, 0, "all-linear"), 3);
             NDManager m = model.manager().newSubManager()) {
            LoraFixtures.randomize(adapter, 9, 0.2);
            adapter.attach(model);
            double[] plain = LoraFixtures.logProbs(model);
            model.setGradientCheckpointing(true);
            model.setLogitsChunkTokens(4);
            try (GradientCollector gc = Engine.getInstance().newGradientCollector()) {
                NDArray lp = model.tokenLogProbs(m.create(LoraFixtures.IDS, new Shape(2, 8)), m.create(LoraFixtures.MASK, new Shape(2, 8)));
                assertEquals(new Shape(2, 7), lp.getShape());
                assertEquals(2, ActivationCheckpoints.pending()); // the layers and the LM head
                double d = LoraFixtures.maxAbsDiff(plain, lp.toDoubleArray());
                assertTrue(d < 1e-12, "chunked log-probs differ by " + d);
                ActivationCheckpoints.discard();
            }
        }
    }

    @Test
    void reachesPendingZeroAndLeavesNothingForTheNextPass() {
        try (LlamaModel model = LoraFixtures.model(DataType.FLOAT32)) {
            model.setGradientCheckpointing(true);
            model.parameters().values().forEach(p -> p.setRequiresGradient(true));
            try (NDManager m = model.manager().newSubManager()) {
                // under autograd a checkpointed pass leaves one segment; without autograd (inference) none
                try (GradientCollector gc = Engine.getInstance().newGradientCollector()) {
                    model.tokenLogProbs(m.create(LoraFixtures.IDS, new Shape(2, 8)), null);
                    assertEquals(2, ActivationCheckpoints.pending()); // the layers and the LM head
                    ActivationCheckpoints.discard();
                }
                assertEquals(0, ActivationCheckpoints.pending());
                model.tokenLogProbs(m.create(LoraFixtures.IDS, new Shape(2, 8)), null);
                assertEquals(0, ActivationCheckpoints.pending());
            }
        }
    }

    /** loss = Σ w · f(model), with fixed random weights w so that every position's gradient differs. */
    private static void backward(LlamaModel model, Function<LlamaModel, NDArray> f) {
        try (NDManager m = model.manager().newSubManager(); NDScope scope = new NDScope();
             GradientCollector gc = Engine.getInstance().newGradientCollector()) {
            scope.suppressNotUsedWarning();
            NDArray out = f.apply(model); // (B, T-1)
            Random rng = new Random(1);
            double[] w = new double[(int) out.size()];
            for (int i = 0; i < w.length; i++) {
                w[i] = rng.nextGaussian();
            }
            NDArray loss = out.mul(m.create(w, out.getShape()).toType(out.getDataType(), false)).sum();
            gc.backward(loss);
            ActivationCheckpoints.backward();
            assertEquals(0, ActivationCheckpoints.pending());
        }
    }

    private static NDArray ids(LlamaModel model) {
        long[] ids = new long[B * T];
        Random rng = new Random(2);
        for (int i = 0; i < ids.length; i++) {
            ids[i] = rng.nextInt((int) model.config().vocabSize());
        }
        return model.manager().create(ids, new Shape(B, T));
    }

    private static NDArray mask(LlamaModel model) {
        return model.manager().create(LoraFixtures.MASK, new Shape(B, T)); // row 1 left-padded
    }

    private static double maxAbs(double[] v) {
        double m = 0;
        for (double x : v) {
            m = Math.max(m, Math.abs(x));
        }
        return m;
    }
}
