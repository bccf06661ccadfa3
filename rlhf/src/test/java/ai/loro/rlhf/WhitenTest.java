package ai.loro.rlhf;

import static org.junit.jupiter.api.Assertions.*;

import ai.loro.core.LoroException;
import org.junit.jupiter.api.Test;

class WhitenTest extends RlhfTestBase {
    @Test
    void maskedUnbiasedWhitening() {
        // valid [1, 2, 3, 4]: mean 2.5, Σ(x − mean)² = 2.25 + 0.25 + 0.25 + 2.25 = 5,
        // unbiased var 5/3 → scale 1/sqrt(5/3 + 1e-8) = 0.77459666691769; junk under the mask
        double s = 0.7745966669176935;
        var x = d(2, 3, 1, 2, 3, 4, Double.NaN, 1e9);
        var mk = mask(2, 3, 1, 1, 1, 1, 0, 0);
        assertArrayEquals(new double[] {-1.5 * s, -0.5 * s, 0.5 * s, 1.5 * s, 0, 0},
                Whiten.whiten(x, mk, true).toDoubleArray(), 1e-12);
        // shift_mean = false adds the mean back
        assertArrayEquals(new double[] {2.5 - 1.5 * s, 2.5 - 0.5 * s, 2.5 + 0.5 * s, 2.5 + 1.5 * s, 0, 0},
                Whiten.whiten(x, mk, false).toDoubleArray(), 1e-12);
        assertThrows(LoroException.class, () -> Whiten.whiten(x, mask(2, 3, 1, 0, 0, 0, 0, 0), true));
    }
}
