package ai.loro.rlhf;

import static org.junit.jupiter.api.Assertions.*;

import ai.loro.core.LoroException;
import org.junit.jupiter.api.Test;

class GrpoAdvantagesTest extends RlhfTestBase {
    // two groups of G = 3: [1, 0, 0] and [0.5, 0.5, 0.5] (all equal)
    //   group 1: mean 1/3, centred [2/3, −1/3, −1/3], sample std sqrt((4/9 + 1/9 + 1/9)/2) = sqrt(1/3)
    //   batch: mean 2.5/6, Σ (r − mean)² = 0.708333…, sample std sqrt(0.708333…/5) = 0.376386…
    static final double[] R = {1, 0, 0, 0.5, 0.5, 0.5};

    @Test
    void groupScaledByHand() {
        GrpoAdvantages.Result r = GrpoAdvantages.compute(m.create(R), 3, "grpo", "group");
        double s = Math.sqrt(1 / 3.0) + 1e-4;
        assertArrayEquals(new double[] {2 / 3.0 / s, -1 / 3.0 / s, -1 / 3.0 / s, 0, 0, 0}, r.advantages().toDoubleArray(), 1e-12);
        assertArrayEquals(new double[] {Math.sqrt(1 / 3.0), 0}, r.groupStd().toDoubleArray(), 1e-12);
        assertEquals(0.5, r.fracZeroStd(), 0, "one group of two has all-equal rewards");
    }

    @Test
    void batchAndNoScaling() {
        double bs = Math.sqrt((Math.pow(1 - 2.5 / 6, 2) + 2 * Math.pow(2.5 / 6, 2) + 3 * Math.pow(0.5 - 2.5 / 6, 2)) / 5);
        assertEquals(0.3763863263545405, bs, 1e-15);
        GrpoAdvantages.Result batch = GrpoAdvantages.compute(m.create(R), 3, "grpo", "batch");
        assertArrayEquals(new double[] {1.7707593078396713, -0.8853796539198355, -0.8853796539198355, 0, 0, 0},
                batch.advantages().toDoubleArray(), 1e-12);
        GrpoAdvantages.Result none = GrpoAdvantages.compute(m.create(R), 3, "grpo", "none"); // Dr. GRPO: r − mean
        assertArrayEquals(new double[] {2 / 3.0, -1 / 3.0, -1 / 3.0, 0, 0, 0}, none.advantages().toDoubleArray(), 1e-15);
    }

    @Test
    void rlooIsLeaveOneOut() {
        // A_i = r_i − mean of the other two: 1 − 0 = 1, 0 − (1 + 0)/2 = −0.5, −0.5; the equal group 0
        GrpoAdvantages.Result r = GrpoAdvantages.compute(m.create(R), 3, "rloo", "none");
        assertArrayEquals(new double[] {1, -0.5, -0.5, 0, 0, 0}, r.advantages().toDoubleArray(), 1e-15);
        // G = 2: A = r − the other one
        GrpoAdvantages.Result two = GrpoAdvantages.compute(m.create(new double[] {3, 1, 2, 5}), 2, "rloo", "none");
        assertArrayEquals(new double[] {2, -2, -3, 3}, two.advantages().toDoubleArray(), 1e-15);
        assertEquals(0, two.fracZeroStd());
    }

    @Test
    void equalGroupsGiveExactlyZeroWhateverTheRounding() {
        // 0.1 three times: the float mean differs from 0.1 in the last bit; the advantages must still be 0
        GrpoAdvantages.Result r = GrpoAdvantages.compute(m.create(new float[] {0.1f, 0.1f, 0.1f, 0.7f, 0.7f, 0.7f}), 3, "rloo", "group");
        assertArrayEquals(new float[6], r.advantages().toFloatArray(), 0f);
        assertEquals(1.0, r.fracZeroStd(), 0);
    }

    @Test
    void badSettingsAreOneLineErrors() {
        assertThrows(LoroException.class, () -> GrpoAdvantages.compute(m.create(R), 4, "grpo", "group"));
        assertThrows(LoroException.class, () -> GrpoAdvantages.compute(m.create(R), 1, "grpo", "group"));
        assertTrue(assertThrows(LoroException.class, () -> GrpoAdvantages.compute(m.create(R), 3, "ppo", "group"))
                .getMessage().contains("allowed: grpo, rloo"));
        assertTrue(assertThrows(LoroException.class, () -> GrpoAdvantages.compute(m.create(R), 3, "grpo", "x"))
                .getMessage().contains("allowed: group, batch, none"));
    }
}
