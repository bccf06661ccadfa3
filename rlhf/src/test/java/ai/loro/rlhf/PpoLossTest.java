package ai.loro.rlhf;

import static org.junit.jupiter.api.Assertions.*;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.Shape;
import ai.loro.core.loss.GradCheck;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class PpoLossTest extends RlhfTestBase {
    // ε = 0.2, five tokens, the fifth masked (its new log-prob is +inf junk):
    //   new − old = [0.1, 0.5, −0.5, 0.5], A = [1, 1, −2, −1]
    //   tok0 ρ = e^0.1 = 1.10517 inside [0.8, 1.2]: max(−1.10517, −1.10517) = −1.10517
    //   tok1 ρ = e^0.5 = 1.64872 > 1.2, A > 0:   max(−1.64872, −1.2)     = −1.2      (clipped)
    //   tok2 ρ = e^−0.5 = 0.60653 < 0.8, A < 0:  max(1.21306, 1.6)       = 1.6       (clipped)
    //   tok3 ρ = 1.64872 > 1.2, A < 0:           max(1.64872, 1.2)       = 1.64872   (not clipped: pessimistic)
    //   loss = (−e^0.1 − 1.2 + 1.6 + e^0.5) / 4 = 0.23588758815612, clipfrac 2/4
    //   approxkl = ½·(0.01 + 0.25 + 0.25 + 0.25)/4 = 0.095, policykl = mean(old − new) = −0.15
    static final double[] OLD = {-1, -2, -1, -3, -1};
    static final double[] NEW = {-0.9, -1.5, -1.5, -2.5, Double.POSITIVE_INFINITY};
    static final double[] ADV = {1, 1, -2, -1, 7};
    static final long[] MASK = {1, 1, 1, 1, 0};

    @Test
    void clippedPolicyLossByHand() {
        PpoLoss.Result r = PpoLoss.policy(d(1, 5, NEW), d(1, 5, OLD), d(1, 5, ADV), mask(1, 5, MASK), 0.2);
        assertEquals(0.2358875881561201, r.loss().getDouble(), 1e-14);
        Map<String, Double> x = r.metrics();
        assertEquals(List.of("ppo/loss/policy", "ppo/policy/approxkl", "ppo/policy/policykl", "ppo/policy/clipfrac"),
                List.copyOf(x.keySet()));
        assertEquals(0.095, x.get("ppo/policy/approxkl"), 1e-14);
        assertEquals(-0.15, x.get("ppo/policy/policykl"), 1e-14);
        assertEquals(0.5, x.get("ppo/policy/clipfrac"), 0);
        // ratios all inside the clip range: loss = −mean(A·ρ); here ρ = 1 → −mean(A) = −(1 + 1 − 2 − 1)/4 = 0.25
        PpoLoss.Result same = PpoLoss.policy(d(1, 5, OLD), d(1, 5, OLD), d(1, 5, ADV), mask(1, 5, MASK), 0.2);
        assertEquals(0.25, same.loss().getDouble(), 1e-15);
        assertEquals(0.0, same.metrics().get("ppo/policy/clipfrac"), 0);
    }

    @Test
    void clippedValueLossByHand() {
        // ε = 0.2: (v, old, R) → clip(v, old ± 0.2), (v − R)², (v_clip − R)², max
        //   (1.0, 0.9, 2)   → 1.0: 1,    1     → 1
        //   (1.5, 1.0, 2)   → 1.2: 0.25, 0.64  → 0.64 (clipped)
        //   (0.5, 1.0, 0)   → 0.8: 0.25, 0.64  → 0.64 (clipped)
        //   (1.5, 1.0, 1.3) → 1.2: 0.04, 0.01  → 0.04
        //   loss = ½·2.32/4 = 0.29; clipfrac ½; vpred 4.5/4 = 1.125; error 1.54/4 = 0.385
        PpoLoss.Result r = PpoLoss.value(d(1, 5, 1, 1.5, 0.5, 1.5, Double.NaN), d(1, 5, 0.9, 1, 1, 1, 0),
                d(1, 5, 2, 2, 0, 1.3, 0), mask(1, 5, MASK), 0.2);
        assertEquals(0.29, r.loss().getDouble(), 1e-14);
        assertEquals(0.5, r.metrics().get("ppo/val/clipfrac"), 0);
        assertEquals(1.125, r.metrics().get("ppo/val/vpred"), 1e-14);
        assertEquals(0.385, r.metrics().get("ppo/val/error"), 1e-14);
    }

    @Test
    void entropyByHand() {
        // V = 2: logits [0, ln 3] → p = [¼, ¾], H = −(¼ ln ¼ + ¾ ln ¾) = 0.56233514461881;
        // logits [5, 5] → ln 2; third token masked (junk logits)
        NDArray logits = m.create(new double[] {0, Math.log(3), 5, 5, 1e6, -1e6}, new Shape(1, 3, 2));
        assertArrayEquals(new double[] {0.5623351446188083, Math.log(2)},
                PpoLoss.entropyPerToken(logits).get("0, :2").toDoubleArray(), 1e-14);
        assertEquals((0.5623351446188083 + Math.log(2)) / 2, PpoLoss.entropy(logits, mask(1, 3, 1, 1, 0)).getDouble(), 1e-14);
    }

    @Test
    void policyAndValueGradientsMatchCentralDifferences() {
        Shape s = new Shape(1, 5);
        double[] finiteNew = {-0.9, -1.5, -1.5, -2.5, 3}; // masked junk must be finite for differences
        assertEquals(5, GradCheck.check(m, x -> PpoLoss.policy(x[0], x[1], x[2], x[3], 0.2).loss(),
                new double[][] {finiteNew, OLD, ADV, {1, 1, 1, 1, 0}}, new Shape[] {s, s, s, s}, 0));
        assertEquals(5, GradCheck.check(m, x -> PpoLoss.value(x[0], x[1], x[2], x[3], 0.2).loss(),
                new double[][] {{1.05, 1.5, 0.5, 1.5, 9}, {0.9, 1, 1, 1, 0}, {2, 2, 0, 1.3, 0}, {1, 1, 1, 1, 0}},
                new Shape[] {s, s, s, s}, 0));
    }
}
