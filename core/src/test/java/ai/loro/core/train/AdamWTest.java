package ai.loro.core.train;

import static org.junit.jupiter.api.Assertions.*;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.training.GradientCollector;
import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** AdamW against torch.optim.AdamW's formulas worked out by hand on a few fp64 scalars. */
class AdamWTest {
    private static final double B1 = 0.9;
    private static final double B2 = 0.999;
    private static final double EPS = 1e-8;
    private static final double[][] GRADS = {{0.5, -1.0, 2.0}, {-0.25, 3.0, 0.1}, {1.5, 0.0, -4.0}};
    private static final double[] LRS = {0.1, 0.05, 0.02};
    private static final double[] INIT = {1.0, -2.0, 0.5};

    @Test
    void noWeightDecay() {
        check(0.0, false);
    }

    @Test
    void decoupledWeightDecayWithHfExclusion() {
        check(0.1, true);
    }

    @Test
    void decayExclusionFollowsTransformers() {
        assertTrue(AdamW.hfDecays("model.layers.0.self_attn.q_proj.weight"));
        assertTrue(AdamW.hfDecays("lm_head.weight"));
        assertFalse(AdamW.hfDecays("model.layers.0.self_attn.q_proj.bias"));
        assertFalse(AdamW.hfDecays("model.layers.3.input_layernorm.weight"));
        assertFalse(AdamW.hfDecays("model.layers.3.post_attention_layernorm.weight"));
        assertFalse(AdamW.hfDecays("model.norm.weight"));
    }

    /** Params "w" (two scalars) and "layer.bias" (one), three steps with the gradients above. */
    private static void check(double wd, boolean exclude) {
        try (NDManager m = NDManager.newBaseManager()) {
            NDArray w = m.create(new double[] {INIT[0], INIT[1]});
            NDArray b = m.create(new double[] {INIT[2]});
            Map<String, NDArray> params = new LinkedHashMap<>();
            params.put("w", w);
            params.put("layer.bias", b);
            AdamW.Options opts = AdamW.Options.defaults().withWeightDecay(wd, exclude);
            double[] p = INIT.clone();
            double[] mm = new double[3];
            double[] vv = new double[3];
            try (AdamW opt = new AdamW(params, opts)) {
                for (int t = 1; t <= 3; t++) {
                    double[] g = GRADS[t - 1];
                    backward(m, w, b, g);
                    opt.step(LRS[t - 1]);
                    for (int i = 0; i < 3; i++) {
                        boolean decays = !(exclude && i == 2);
                        double lr = LRS[t - 1];
                        if (decays) {
                            p[i] = p[i] * (1 - lr * wd);
                        }
                        mm[i] = B1 * mm[i] + (1 - B1) * g[i];
                        vv[i] = B2 * vv[i] + (1 - B2) * g[i] * g[i];
                        double mHat = mm[i] / (1 - Math.pow(B1, t));
                        double denom = Math.sqrt(vv[i]) / Math.sqrt(1 - Math.pow(B2, t)) + EPS;
                        p[i] -= lr * mHat / denom;
                    }
                    double[] got = {w.getDouble(0), w.getDouble(1), b.getDouble(0)};
                    for (int i = 0; i < 3; i++) {
                        assertEquals(p[i], got[i], 1e-14, "step " + t + " param " + i);
                    }
                    assertEquals(0.0, w.getGradient().abs().sum().getDouble(), "gradients zeroed after the update");
                }
                assertEquals(3, opt.stepCount());
            }
        }
    }

    private static void backward(NDManager m, NDArray w, NDArray b, double[] g) {
        try (NDManager s = m.newSubManager(); GradientCollector gc = Engine.getInstance().newGradientCollector()) {
            NDArray loss = s.create(new double[] {g[0], g[1]}).mul(w).sum().add(s.create(new double[] {g[2]}).mul(b).sum());
            gc.backward(loss);
        }
    }

    @Test
    void firstStepIsLrTimesSignAndDecayIsDecoupled() {
        // p=2, g=4, lr=0.1, wd=0.5: p ← 2·(1 - 0.05) = 1.9, then 1.9 - 0.1·4/(4 + 1e-8)
        try (NDManager m = NDManager.newBaseManager()) {
            NDArray w = m.create(new double[] {2.0});
            NDArray b = m.create(new double[] {0.0});
            Map<String, NDArray> params = new LinkedHashMap<>();
            params.put("w", w);
            params.put("b", b);
            try (AdamW opt = new AdamW(params, AdamW.Options.defaults().withWeightDecay(0.5, false))) {
                backward(m, w, b, new double[] {4.0, 0, 0});
                opt.step(0.1);
            }
            assertEquals(1.9 - 0.1 * 4 / (4 + 1e-8), w.getDouble(0), 1e-15);
        }
    }

    @Test
    void stateRoundTripContinuesIdentically() {
        try (NDManager m = NDManager.newBaseManager()) {
            NDArray w1 = m.create(new float[] {1f, -2f, 3f});
            NDArray w2 = m.create(new float[] {1f, -2f, 3f});
            float[] g = {0.3f, -0.7f, 1.1f};
            try (AdamW a = new AdamW(Map.of("w", w1), AdamW.Options.defaults().withWeightDecay(0.01, true));
                 AdamW b = new AdamW(Map.of("w", w2), AdamW.Options.defaults().withWeightDecay(0.01, true))) {
                for (int t = 0; t < 2; t++) {
                    backwardF(m, w1, g);
                    a.step(0.01);
                }
                w2.set(new ai.djl.ndarray.index.NDIndex("..."), w1);
                b.loadState(a.state());
                assertEquals(2, b.stepCount());
                backwardF(m, w1, g);
                a.step(0.01);
                backwardF(m, w2, g);
                b.step(0.01);
                assertArrayEquals(w1.toFloatArray(), w2.toFloatArray());
            }
        }
    }

    private static void backwardF(NDManager m, NDArray w, float[] g) {
        try (NDManager s = m.newSubManager(); GradientCollector gc = Engine.getInstance().newGradientCollector()) {
            gc.backward(s.create(g).mul(w).sum());
        }
    }
}
