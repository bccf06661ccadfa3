package ai.loro.rlhf;

import static org.junit.jupiter.api.Assertions.*;

import ai.loro.core.LoroException;
import org.junit.jupiter.api.Test;

class RewardsTest extends RlhfTestBase {
    @Test
    void klPenaltyEveryTokenAndScoreAtTheLastValidToken() {
        // coef 0.1, scores [1, 2]; row 0 all valid: [−0.01, −0.02, −0.03 + 1]; row 1 only t=0 valid
        // (junk KL under the mask): [−0.05 + 2, 0, 0]
        var r = Rewards.withKl(m.create(new double[] {1, 2}), d(2, 3, 0.1, 0.2, 0.3, 0.5, Double.NaN, 9),
                0.1, mask(2, 3, 1, 1, 1, 1, 0, 0));
        assertArrayEquals(new double[] {-0.01, -0.02, 0.97, 1.95, 0, 0}, r.toDoubleArray(), 1e-15);
        assertThrows(LoroException.class, () -> Rewards.withKl(m.create(new double[] {1, 2}), d(2, 3, 0, 0, 0, 0, 0, 0),
                0.1, mask(2, 3, 1, 1, 1, 0, 0, 0)));
    }

    @Test
    void missingEosPenalty() {
        var s = Rewards.penalizeMissingEos(m.create(new double[] {1, 2, 3}), m.create(new boolean[] {true, false, true}), 1.0);
        assertArrayEquals(new double[] {1, 1, 3}, s.toDoubleArray(), 0);
    }
}
