package ai.loro.rlhf;

import static org.junit.jupiter.api.Assertions.*;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.training.GradientCollector;
import java.util.Map;
import org.junit.jupiter.api.Test;

class GrpoLossTest extends RlhfTestBase {
    // two completions, T = 3; row 0 has 2 tokens (its third entry is junk), row 1 has 3.
    //   new − old: row 0 [0.1, 0.22], row 1 [−0.5, 0, 0.2]; A = [1, −2]; ε_low = 0.2, ε_high = 0.28
    //   per token ℓ = −min(ρA, clip(ρ, 0.8, 1.28)A):
    //   row 0: e^0.1 = 1.10517 → −1.10517; e^0.22 = 1.24608 (inside 1.28, outside 1.2) → −1.24608
    //   row 1: e^−0.5 = 0.60653 < 0.8, A < 0 → −min(−1.21306, −1.6) = 1.6 (low-clipped); ρ = 1 → 2;
    //          e^0.2 = 1.22140 → 2.44281
    //   grpo    = (Σ row0 / 2 + Σ row1 / 3) / 2 = 0.41932234055430
    //   bnpo    = Σ / 5                          = 0.73831157353146
    //   dr_grpo = Σ / (2 · max_new_tokens 4)     = 0.46144473345716
    //   dapo    = Σ / 10 (the generation batch's tokens) = 0.36915578676573
    static final double[] OLD = {-1, -2, -1, -1, -2, -3};
    static final double[] NEW = {-0.9, -1.78, Double.NaN, -1.5, -2, -2.8};
    static final long[] MASK = {1, 1, 0, 1, 1, 1};
    static final double[] ADV = {1, -2};

    static GrpoLoss.Config cfg(String type, String level, double epsHigh, double beta) {
        return new GrpoLoss.Config(type, level, 0.2, epsHigh, beta, 4);
    }

    static GrpoLoss.Result run(GrpoLoss.Config c, double[] ref) {
        return GrpoLoss.loss(d(2, 3, NEW), d(2, 3, OLD), ref == null ? null : d(2, 3, ref), m.create(ADV), mask(2, 3, MASK), 10, c);
    }

    @Test
    void eachLossTypeNormalisesByHand() {
        assertEquals(0.4193223405542995, run(cfg("grpo", "token", 0.28, 0), null).loss().getDouble(), 1e-14);
        assertEquals(0.7383115735314623, run(cfg("bnpo", "token", 0.28, 0), null).loss().getDouble(), 1e-14);
        assertEquals(0.4614447334571639, run(cfg("dr_grpo", "token", 0.28, 0), null).loss().getDouble(), 1e-14);
        assertEquals(0.36915578676573113, run(cfg("dapo", "token", 0.28, 0), null).loss().getDouble(), 1e-14);
    }

    @Test
    void clipHigherAndClipRatios() {
        GrpoLoss.Result wide = run(cfg("grpo", "token", 0.28, 0), null);
        Map<String, Double> x = wide.metrics();
        assertEquals(0.2, x.get("clip_ratio/low_mean"), 1e-15, "row 1's first token");
        assertEquals(0.0, x.get("clip_ratio/high_mean"), 0, "e^0.22 is inside 1 + 0.28");
        assertEquals(0.2, x.get("clip_ratio/region_mean"), 1e-15);
        assertFalse(x.containsKey("kl"), "β = 0: no KL term");
        // symmetric ε = 0.2: e^0.22 is clipped to 1.2, row 0's second token −1.2 instead of −1.24608
        GrpoLoss.Result sym = run(cfg("grpo", "token", 0.2, 0), null);
        assertEquals(0.43084152320114466, sym.loss().getDouble(), 1e-14);
        assertEquals(0.2, sym.metrics().get("clip_ratio/high_mean"), 1e-15);
        assertEquals(0.4, sym.metrics().get("clip_ratio/region_mean"), 1e-15);
    }

    @Test
    void sequenceLevelImportanceSampling() {
        // GSPO: w = the row's mean log-ratio: row 0 (0.1 + 0.22)/2 = 0.16, ρ = 1.17351; row 1 (−0.5 + 0 + 0.2)/3 = −0.1,
        // ρ = 0.90484; both inside the clip range; grpo loss = (−1.17351·1 + 0.90484·2) / 2 = 0.31808198254005
        GrpoLoss.Result r = run(cfg("grpo", "sequence", 0.28, 0), null);
        assertEquals(0.3180819825400545, r.loss().getDouble(), 1e-14);
        assertEquals(0.0, r.metrics().get("clip_ratio/region_mean"), 0);
    }

    @Test
    void k3PenaltyWithBeta() {
        // ref − new = row 0 [0.3, −0.2], row 1 [0, 0.1, −0.1]; k3 = e^d − d − 1; mean over 5 tokens 0.01571957935312;
        // loss = grpo above with 0.1·k3 added per token = 0.42120388517251
        double[] ref = {-0.6, -1.98, 5, -1.5, -1.9, -2.9};
        GrpoLoss.Result r = run(cfg("grpo", "token", 0.28, 0.1), ref);
        assertEquals(0.4212038851725094, r.loss().getDouble(), 1e-14);
        assertEquals(0.015719579353118452, r.metrics().get("kl"), 1e-14);
    }

    @Test
    void onPolicyGradientIsMinusAdvantageOverLengthAndBatch() {
        // old = null: ratio 1, loss value −mean_i(A_i), d loss / d new_t = −A_i / (n_i · B)
        NDArray lp = d(2, 3, NEW);
        NDArray grad;
        try (GradientCollector gc = Engine.getInstance().newGradientCollector()) {
            lp.setRequiresGradient(true);
            GrpoLoss.Result r = GrpoLoss.loss(lp, null, null, m.create(ADV), mask(2, 3, MASK), 5, cfg("grpo", "token", 0.28, 0));
            assertEquals(0.5, r.loss().getDouble(), 1e-15, "−(1 − 2)/2");
            gc.backward(r.loss());
            grad = lp.getGradient().duplicate();
        }
        assertArrayEquals(new double[] {-0.25, -0.25, 0, 1 / 3.0, 1 / 3.0, 1 / 3.0}, grad.toDoubleArray(), 1e-15);
    }

    @Test
    void fullyMaskedBatchGivesZeroNotNaN() {
        // mask_truncated_completions can mask every completion of a batch: the loss is 0, not 0/0
        GrpoLoss.Result r = GrpoLoss.loss(d(2, 3, NEW), d(2, 3, OLD), null, m.create(ADV), mask(2, 3, 0, 0, 0, 0, 0, 0), 0,
                cfg("bnpo", "token", 0.28, 0));
        assertEquals(0.0, r.loss().getDouble(), 0);
        assertEquals(0.0, r.metrics().get("clip_ratio/region_mean"), 0);
    }
}
