package ai.loro.lora;

import static org.junit.jupiter.api.Assertions.*;

import ai.djl.engine.Engine;
import ai.djl.ndarray.BaseNDManager;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.GradientCollector;
import ai.loro.core.model.HfNames;
import ai.loro.core.model.LlamaModel;
import ai.loro.core.model.Projection;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;

class LoraAdapterTest {
    @Test
    void zeroInitAdapterLeavesOutputsExactlyUnchanged() {
        try (LlamaModel base = LoraFixtures.model(DataType.FLOAT32);
             LlamaModel model = LoraFixtures.model(DataType.FLOAT32);
             LoraAdapter adapter = LoraAdapter.create(model, LoraConfig.of(4, 8, 0, "all-linear"), 7)) {
            adapter.attach(model);
            assertArrayEquals(LoraFixtures.logProbs(base), LoraFixtures.logProbs(model));
        }
    }

    @Test
    void initIsPeftKaimingUniformReproducibleAndInModelDtype() {
        try (LlamaModel model = LoraFixtures.model(DataType.FLOAT32);
             LoraAdapter a1 = LoraAdapter.create(model, LoraConfig.of(4, 8, 0, "q_proj", "down_proj"), 7);
             LoraAdapter a2 = LoraAdapter.create(model, LoraConfig.of(4, 8, 0, "down_proj", "q_proj", "v_proj"), 7);
             LoraAdapter a3 = LoraAdapter.create(model, LoraConfig.of(4, 8, 0, "q_proj", "down_proj"), 8)) {
            assertEquals(List.of("base_model.model.model.layers.0.self_attn.q_proj.lora_A.weight",
                    "base_model.model.model.layers.0.self_attn.q_proj.lora_B.weight",
                    "base_model.model.model.layers.0.mlp.down_proj.lora_A.weight",
                    "base_model.model.model.layers.0.mlp.down_proj.lora_B.weight",
                    "base_model.model.model.layers.1.self_attn.q_proj.lora_A.weight",
                    "base_model.model.model.layers.1.self_attn.q_proj.lora_B.weight",
                    "base_model.model.model.layers.1.mlp.down_proj.lora_A.weight",
                    "base_model.model.model.layers.1.mlp.down_proj.lora_B.weight"), new ArrayList<>(a1.parameters().keySet()));
            for (LoraAdapter.Module m : a1.modules().values()) {
                int in = m.proj().inFeatures(model.config());
                assertEquals(new Shape(4, in), m.a().getShape());
                assertEquals(new Shape(m.proj().outFeatures(model.config()), 4), m.b().getShape());
                assertEquals(DataType.FLOAT32, m.a().getDataType());
                float[] a = m.a().toFloatArray();
                double bound = 1 / Math.sqrt(in);
                double maxAbs = 0;
                for (float v : a) {
                    maxAbs = Math.max(maxAbs, Math.abs(v));
                }
                assertTrue(maxAbs <= bound && maxAbs > 0.5 * bound, m.name() + " " + maxAbs + " vs " + bound);
                assertTrue(Arrays.stream(toDoubles(m.b())).allMatch(v -> v == 0));
                // same (seed, module) → same values, whatever else is targeted; other seed → other values
                assertArrayEquals(a, a2.module(m.name()).a().toFloatArray());
                assertFalse(Arrays.equals(a, a3.module(m.name()).a().toFloatArray()));
                assertEquals(2.0, m.scale());
            }
        }
        try (LlamaModel m64 = LoraFixtures.model(DataType.FLOAT64);
             LoraAdapter a = LoraAdapter.create(m64, LoraConfig.of(2, 8, 0, "k_proj"), 1)) {
            assertEquals(DataType.FLOAT64, a.module("model.layers.1.self_attn.k_proj").a().getDataType());
        }
    }

    @Test
    void deltaMatchesNaiveFp64IncludingRsloraAndRankPattern() {
        Map<String, Integer> ranks = Map.of("layers.1.self_attn.q_proj", 2, "down_proj", 5);
        Map<String, Double> alphas = Map.of("v_proj", 3.0);
        List<LoraConfig> configs = List.of(
                LoraConfig.of(4, 8, 0, "all-linear"),
                LoraConfig.of(4, 8, 0, "all-linear").withRslora(true),
                LoraConfig.of(4, 7, 0, "all-linear").withPatterns(ranks, alphas),
                LoraConfig.of(3, 6, 0, "all-linear").withPatterns(ranks, alphas).withRslora(true));
        for (LoraConfig config : configs) {
            try (LlamaModel model = LoraFixtures.model(DataType.FLOAT64);
                 LoraAdapter adapter = LoraAdapter.create(model, config, 11);
                 NDManager m = model.manager().newSubManager()) {
                LoraFixtures.randomize(adapter, 5, 0.3);
                adapter.attach(model);
                Random rng = new Random(2);
                for (LoraAdapter.Module mod : adapter.modules().values()) {
                    String name = mod.name();
                    int rank = config.rankFor(name);
                    double alpha = config.alphaFor(name);
                    double scale = config.useRslora() ? alpha / Math.sqrt(rank) : alpha / rank;
                    assertEquals(rank, mod.rank());
                    assertEquals(scale, mod.scale(), 1e-15);
                    Projection p = model.layer(mod.layer()).projection(mod.proj());
                    int in = mod.proj().inFeatures(model.config());
                    int out = mod.proj().outFeatures(model.config());
                    double[] x = new double[2 * 3 * in];
                    for (int i = 0; i < x.length; i++) {
                        x[i] = rng.nextGaussian();
                    }
                    NDArray xa = m.create(x, new Shape(2, 3, in));
                    double[] got = p.apply(xa, true).toDoubleArray();
                    double[] w = p.weight().toDoubleArray();
                    double[] a = mod.a().toDoubleArray();
                    double[] b = mod.b().toDoubleArray();
                    double[] want = new double[2 * 3 * out];
                    for (int row = 0; row < 6; row++) {
                        double[] h = new double[rank];
                        for (int k = 0; k < rank; k++) {
                            for (int i = 0; i < in; i++) {
                                h[k] += x[row * in + i] * a[k * in + i];
                            }
                        }
                        for (int o = 0; o < out; o++) {
                            double base = 0;
                            for (int i = 0; i < in; i++) {
                                base += x[row * in + i] * w[o * in + i];
                            }
                            double d = 0;
                            for (int k = 0; k < rank; k++) {
                                d += b[o * rank + k] * h[k];
                            }
                            want[row * out + o] = base + scale * d;
                        }
                    }
                    assertTrue(LoraFixtures.maxAbsDiff(want, got) < 1e-12, name + " " + LoraFixtures.maxAbsDiff(want, got));
                }
            }
        }
    }

    @Test
    void gradientsReachOnlyAdapterAndBaseStaysBitIdenticalAfterSgd() {
        try (LlamaModel model = LoraFixtures.model(DataType.FLOAT32);
             LoraAdapter adapter = LoraAdapter.create(model, LoraConfig.of(4, 8, 0, "all-linear"), 3);
             NDManager m = model.manager().newSubManager()) {
            LoraFixtures.randomize(adapter, 9, 0.1);
            adapter.attach(model);
            Map<String, byte[]> before = new HashMap<>();
            model.parameters().forEach((k, v) -> before.put(k, v.toByteArray()));
            NDArray ids = m.create(LoraFixtures.IDS, new Shape(2, 8));
            NDArray mask = m.create(LoraFixtures.MASK, new Shape(2, 8));
            double loss0;
            try (GradientCollector gc = Engine.getInstance().newGradientCollector()) {
                NDArray loss = model.tokenLogProbs(ids, mask).sum().neg();
                loss0 = loss.getFloat();
                gc.backward(loss);
            }
            for (NDArray p : model.parameters().values()) {
                assertFalse(p.hasGradient(), p.getName() + " must not require gradients");
            }
            for (Map.Entry<String, NDArray> e : adapter.parameters().entrySet()) {
                NDArray g = e.getValue().getGradient();
                double norm = g.square().sum().getFloat();
                assertTrue(norm > 0, e.getKey() + " has no gradient");
                NDArray step = g.mul(0.01f);
                e.getValue().subi(step);
                g.close();
                step.close();
            }
            for (NDArray p : adapter.parameters().values()) {
                p.getGradient().subi(p.getGradient()); // zero for hygiene
            }
            double loss1 = -model.tokenLogProbs(ids, mask).sum().getFloat();
            assertTrue(loss1 < loss0, loss1 + " !< " + loss0);
            model.parameters().forEach((k, v) -> assertArrayEquals(before.get(k), v.toByteArray(), k + " changed"));
        }
    }

    @Test
    void adaptersDisabledGivesExactlyBaseLogProbs() {
        try (LlamaModel base = LoraFixtures.model(DataType.FLOAT32);
             LlamaModel model = LoraFixtures.model(DataType.FLOAT32);
             LoraAdapter adapter = LoraAdapter.create(model, LoraConfig.of(4, 8, 0, "all-linear"), 3)) {
            LoraFixtures.randomize(adapter, 9, 0.2);
            adapter.attach(model);
            double[] ref = LoraFixtures.logProbs(base);
            double[] with = LoraFixtures.logProbs(model);
            assertTrue(LoraFixtures.maxAbsDiff(ref, with) > 1e-3);
            model.setAdaptersEnabled(false);
            assertArrayEquals(ref, LoraFixtures.logProbs(model));
            model.setAdaptersEnabled(true);
            assertArrayEquals(with, LoraFixtures.logProbs(model));
            adapter.detach();
            assertFalse(adapter.isAttached());
            assertArrayEquals(ref, LoraFixtures.logProbs(model));
            adapter.attach(model);
            assertArrayEquals(with, LoraFixtures.logProbs(model));
        }
    }

    @Test
    void dropoutOnlyWhenTrainingAndReproduciblePerSeedStepModule() {
        try (LlamaModel model = LoraFixtures.model(DataType.FLOAT32);
             LoraAdapter adapter = LoraAdapter.create(model, LoraConfig.of(4, 8, 0.5, "all-linear"), 3)) {
            LoraFixtures.randomize(adapter, 9, 0.2);
            adapter.attach(model);
            double[] eval1 = LoraFixtures.logProbs(model);
            double[] eval2 = LoraFixtures.logProbs(model);
            assertArrayEquals(eval1, eval2);
            adapter.setTraining(true);
            adapter.setStep(4);
            double[] s4a = LoraFixtures.logProbs(model);
            double[] s4second = LoraFixtures.logProbs(model); // second micro-batch of step 4: other masks
            adapter.setStep(5);
            double[] s5 = LoraFixtures.logProbs(model);
            adapter.setStep(4);
            double[] s4b = LoraFixtures.logProbs(model);
            assertArrayEquals(s4a, s4b);
            assertFalse(Arrays.equals(s4a, s4second));
            assertFalse(Arrays.equals(s4a, s5));
            assertFalse(Arrays.equals(s4a, eval1));
            adapter.setTraining(false);
            assertArrayEquals(eval1, LoraFixtures.logProbs(model));
        }
    }

    @Test
    void forwardLeaksNothingIntoAdapterOrModelManagers() {
        try (LlamaModel model = LoraFixtures.model(DataType.FLOAT32);
             LoraAdapter adapter = LoraAdapter.create(model, LoraConfig.of(4, 8, 0.1, "all-linear"), 3)) {
            adapter.attach(model);
            adapter.setTraining(true);
            LoraFixtures.logProbs(model); // warm: rope tables and the like are made once, on the model's manager
            int adapterArrays = adapter.manager().getManagedArrays().size();
            int modelArrays = model.manager().getManagedArrays().size();
            ((BaseNDManager) adapter.manager()).cap();
            // the cap is armed: an array attached to the adapter's manager now throws at the leaking line
            assertThrows(IllegalStateException.class, () -> adapter.manager().create(1f));
            for (int i = 0; i < 3; i++) {
                LoraFixtures.logProbs(model);
            }
            assertEquals(adapterArrays, adapter.manager().getManagedArrays().size(), "arrays left on the adapter's manager");
            assertEquals(modelArrays, model.manager().getManagedArrays().size(), "arrays left on the model's manager");
        }
    }

    @Test
    void attachRefusesSecondModelAndCloseDetaches() {
        try (LlamaModel model = LoraFixtures.model(DataType.FLOAT32);
             LlamaModel other = LoraFixtures.model(DataType.FLOAT32)) {
            LoraAdapter adapter = LoraAdapter.create(model, LoraConfig.of(2, 4, 0, "q_proj"), 3);
            adapter.attach(model);
            adapter.attach(model); // idempotent
            assertThrows(IllegalStateException.class, () -> adapter.attach(other));
            assertNotNull(model.layer(0).projection(HfNames.Proj.Q).delta());
            assertNull(model.layer(0).projection(HfNames.Proj.K).delta());
            adapter.close();
            assertNull(model.layer(0).projection(HfNames.Proj.Q).delta());
        }
        try (LlamaModel m64 = LoraFixtures.model(DataType.FLOAT64);
             LlamaModel m32 = LoraFixtures.model(DataType.FLOAT32);
             LoraAdapter a = LoraAdapter.create(m64, LoraConfig.of(2, 4, 0, "q_proj"), 3)) {
            assertThrows(ai.loro.core.LoroException.class, () -> a.attach(m32));
        }
    }

    private static double[] toDoubles(NDArray a) {
        return a.toType(DataType.FLOAT64, false).toDoubleArray();
    }
}
