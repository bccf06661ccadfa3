package ai.loro.rlhf;

import static org.junit.jupiter.api.Assertions.*;

import ai.djl.ndarray.types.DataType;
import org.junit.jupiter.api.Test;

class GaeTest extends RlhfTestBase {
    @Test
    void gammaOneLambdaOneGivesReverseCumulativeSums() {
        // γ = λ = 1: A_t = Σ_{k≥t} δ_k = Σ_{k≥t} r_k − V_t (the V's telescope, V_T = 0), so R_t = Σ_{k≥t} r_k
        // r = [1, 2, 3, 4] → R = [10, 9, 7, 4]; V = [0.5, −1, 2, 0.3] → A = [9.5, 10, 5, 3.7]
        Gae.Result g = Gae.advantages(d(1, 4, 1, 2, 3, 4), d(1, 4, 0.5, -1, 2, 0.3), mask(1, 4, 1, 1, 1, 1), 1, 1);
        assertArrayEquals(new double[] {10, 9, 7, 4}, g.returns().toDoubleArray(), 1e-14);
        assertArrayEquals(new double[] {9.5, 10, 5, 3.7}, g.advantages().toDoubleArray(), 1e-14);
    }

    // γ = 0.5, λ = 0.9 (γλ = 0.45), r = [1, 0, 2], V = [0.5, 1, −1]:
    //   t=2: δ = 2 + 0.5·0 − (−1) = 3,          A = 3
    //   t=1: δ = 0 + 0.5·(−1) − 1 = −1.5,       A = −1.5 + 0.45·3 = −0.15
    //   t=0: δ = 1 + 0.5·1 − 0.5 = 1,           A = 1 + 0.45·(−0.15) = 0.9325
    //   R = A + V = [1.4325, 0.85, 2]
    @Test
    void threeStepsByHand() {
        Gae.Result g = Gae.advantages(d(1, 3, 1, 0, 2), d(1, 3, 0.5, 1, -1), mask(1, 3, 1, 1, 1), 0.5, 0.9);
        assertArrayEquals(new double[] {0.9325, -0.15, 3}, g.advantages().toDoubleArray(), 1e-14);
        assertArrayEquals(new double[] {1.4325, 0.85, 2}, g.returns().toDoubleArray(), 1e-14);
    }

    @Test
    void maskedTailAndMaskedPrefixAreZeroAndDoNotBootstrap() {
        // row 0: the example above + a masked tail with junk (r 99, V 42): nothing bootstraps from it
        // row 1: a masked prefix (junk r 5, V 7) + the example
        Gae.Result g = Gae.advantages(d(2, 4, 1, 0, 2, 99, 5, 1, 0, 2), d(2, 4, 0.5, 1, -1, 42, 7, 0.5, 1, -1),
                mask(2, 4, 1, 1, 1, 0, 0, 1, 1, 1), 0.5, 0.9);
        assertArrayEquals(new double[] {0.9325, -0.15, 3, 0, 0, 0.9325, -0.15, 3}, g.advantages().toDoubleArray(), 1e-14);
        assertArrayEquals(new double[] {1.4325, 0.85, 2, 0, 0, 1.4325, 0.85, 2}, g.returns().toDoubleArray(), 1e-14);
    }

    @Test
    void keepsTheValuesDtype() {
        Gae.Result g = Gae.advantages(d(1, 3, 1, 0, 2).toType(DataType.FLOAT32, false),
                d(1, 3, 0.5, 1, -1).toType(DataType.FLOAT32, false), mask(1, 3, 1, 1, 1), 0.5, 0.9);
        assertEquals(DataType.FLOAT32, g.advantages().getDataType());
        assertArrayEquals(new float[] {0.9325f, -0.15f, 3}, g.advantages().toFloatArray(), 1e-6f);
    }
}
