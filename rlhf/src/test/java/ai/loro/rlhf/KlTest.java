package ai.loro.rlhf;

import static org.junit.jupiter.api.Assertions.*;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.DataType;
import ai.loro.core.LoroException;
import java.util.Map;
import org.junit.jupiter.api.Test;

class KlTest extends RlhfTestBase {
    @Test
    void estimatorsByHand() {
        // logp = [−1, −2, −1.5], ref = [−2, −1, −1.5] → log r = ref − logp = [−1, 1, 0]
        // k1 = −log r = [1, −1, 0]; k2 = ½ log² r = [½, ½, 0]
        // k3 = (r − 1) − log r = [e^−1 − 1 + 1, e − 1 − 1, 0] = [0.36787944117144, 0.71828182845905, 0]
        NDArray lp = d(1, 3, -1, -2, -1.5);
        NDArray ref = d(1, 3, -2, -1, -1.5);
        assertArrayEquals(new double[] {1, -1, 0}, KlPenalty.perToken(lp, ref, "k1").toDoubleArray(), 1e-15);
        assertArrayEquals(new double[] {0.5, 0.5, 0}, KlPenalty.perToken(lp, ref, "k2").toDoubleArray(), 1e-15);
        assertArrayEquals(new double[] {Math.exp(-1), Math.E - 2, 0}, KlPenalty.perToken(lp, ref, "k3").toDoubleArray(), 1e-15);
        assertArrayEquals(new double[] {0}, KlPenalty.sequence(KlPenalty.perToken(lp, ref, "k1"), mask(1, 3, 1, 1, 1)).toDoubleArray(), 1e-15);
        assertEquals("unknown KL estimator 'full'; allowed: k1, k2, k3",
                assertThrows(LoroException.class, () -> KlPenalty.perToken(lp, ref, "full")).getMessage());
    }

    @Test
    void k2IsHalfTheSquaredLogRatioByHand() {
        // logp = [−0.5, −3, −1, −0.25], ref = [−2, −1.25, −1, −0.75] → log r = ref − logp = [−1.5, 1.75, 0, −0.5]
        // k2 = ½ (log r)² = [½·2.25, ½·3.0625, 0, ½·0.25] = [1.125, 1.53125, 0, 0.125] (exact in binary)
        NDArray lp = d(2, 2, -0.5, -3, -1, -0.25);
        NDArray ref = d(2, 2, -2, -1.25, -1, -0.75);
        NDArray k2 = KlPenalty.perToken(lp, ref, KlPenalty.Estimator.K2);
        assertEquals(new ai.djl.ndarray.types.Shape(2, 2), k2.getShape());
        assertArrayEquals(new double[] {1.125, 1.53125, 0, 0.125}, k2.toDoubleArray(), 0);
        // per row over the valid tokens: row 0 = 1.125 + 1.53125 = 2.65625; row 1 masks its last token: 0
        assertArrayEquals(new double[] {2.65625, 0}, KlPenalty.sequence(k2, mask(2, 2, 1, 1, 1, 0)).toDoubleArray(), 0);
        assertEquals(KlPenalty.Estimator.K2, KlPenalty.Estimator.parse("k2"));
    }

    @Test
    void k3IsNeverNegativeEvenWithFp32Rounding() {
        float[] a = new float[2001];
        float[] b = new float[2001];
        for (int i = 0; i < a.length; i++) {
            a[i] = -3f + 1e-3f * i;
            b[i] = a[i] + (float) ((i % 7 - 3) * Math.pow(10, -(i % 8))); // differences from 3 down to 3e-7
        }
        float[] k3 = KlPenalty.perToken(m.create(a).reshape(1, -1), m.create(b).reshape(1, -1), "k3").toFloatArray();
        for (float v : k3) {
            assertTrue(v >= 0, "k3 = " + v);
        }
    }

    @Test
    void sampleAverageOfK1AndK3IsTheTrueKl() {
        // tokens drawn from p = [0.5, 0.3, 0.2], reference q = [0.2, 0.5, 0.3]; the exact expectation over
        // the samples is Σ p·k: for k1, Σ p log(p/q) = 0.5 ln 2.5 + 0.3 ln 0.6 + 0.2 ln(2/3)
        // = 0.45814536593683 − 0.15324768712979 − 0.08109302162163 = 0.22380465718565 ≥ 0 (Gibbs);
        // for k3, Σ p((q/p − 1) − log(q/p)) = Σ q − Σ p + KL = the same KL (unbiased)
        double[] p = {0.5, 0.3, 0.2};
        double[] q = {0.2, 0.5, 0.3};
        NDArray lp = d(1, 3, Math.log(p[0]), Math.log(p[1]), Math.log(p[2]));
        NDArray lq = d(1, 3, Math.log(q[0]), Math.log(q[1]), Math.log(q[2]));
        NDArray weights = d(1, 3, p);
        for (String k : new String[] {"k1", "k3"}) {
            assertEquals(0.22380465718564752, KlPenalty.perToken(lp, lq, k).mul(weights).sum().getDouble(), 1e-14, k);
        }
        // swapped: KL(q‖p) = 0.2 ln 0.4 + 0.5 ln(5/3) + 0.3 ln 1.5 = 0.19379419794061 ≥ 0
        assertEquals(0.19379419794061362, KlPenalty.perToken(lq, lp, "k1").mul(d(1, 3, q)).sum().getDouble(), 1e-14);
    }

    @Test
    void adaptiveControllerByHand() {
        // β0 = 0.2, target 6, horizon 10000, 256 samples per update:
        //   KL 9:   e = clip(9/6 − 1 = 0.5) = 0.2,   mult = 1 + 0.2·256/10000 = 1.00512 → 0.201024
        //   KL 5.7: e = 5.7/6 − 1 = −0.05,           mult = 1 − 0.05·0.0256 = 0.99872 → 0.20076668928
        //   KL 0:   e = clip(−1) = −0.2,             mult = 1 − 0.00512 = 0.99488 → 0.199738779…
        KlController c = KlController.adaptive(0.2, 6, 10000);
        c.update(9, 256);
        assertEquals(0.201024, c.value(), 1e-15);
        c.update(5.7, 256);
        assertEquals(0.20076668928, c.value(), 1e-15);
        KlController resumed = KlController.fromState(KlController.State.fromMap(c.state().toMap()));
        c.update(0, 256);
        resumed.update(0, 256);
        assertEquals(0.20076668928 * 0.99488, c.value(), 1e-15);
        assertEquals(c.value(), resumed.value(), 0);
        KlController f = KlController.fixed(0.05);
        f.update(100, 256);
        assertEquals(0.05, f.value(), 0);
        assertEquals(Map.of("kind", "fixed", "value", 0.05), f.state().toMap());
        assertThrows(LoroException.class, () -> KlController.adaptive(0.2, 0, 10000));
        assertThrows(LoroException.class, () -> KlController.fromState(new KlController.State("pid", 1, 1, 1)));
    }
}
