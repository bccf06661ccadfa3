package ai.loro.reward;

import static org.junit.jupiter.api.Assertions.*;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.loro.core.LoroException;
import ai.loro.core.loss.GradCheck;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

class BradleyTerryTest {
    static NDManager m;

    @BeforeAll
    static void up() {
        m = NDManager.newBaseManager();
    }

    @AfterAll
    static void down() {
        m.close();
    }

    // r_c = [2, 0.5, -1], r_r = [1, 1, -1.5] → d = r_c − r_r = [1, −0.5, 0.5]
    static final double[] RC = {2, 0.5, -1};
    static final double[] RR = {1, 1, -1.5};

    @Test
    void lossAndMetricsByHand() {
        // −log σ(d) = ln(1 + e^−d): (ln(1+e^−1) + ln(1+e^0.5) + ln(1+e^−0.5)) / 3
        //   = (0.31326168751822 + 0.97407698418010 + 0.47407698418010) / 3 = 0.58713855195948
        BradleyTerry.Result r = BradleyTerry.loss(m.create(RC), m.create(RR), null, 0);
        assertEquals(0.5871385519594787, r.loss().getDouble(), 1e-14);
        assertEquals(List.of("accuracy", "margin"), List.copyOf(r.metrics().keySet()));
        assertEquals(2.0 / 3, r.metrics().get("accuracy"), 1e-15); // d > 0 in rows 0 and 2
        assertEquals(1.0 / 3, r.metrics().get("margin"), 1e-15); // (1 − 0.5 + 0.5) / 3
    }

    @Test
    void marginAndCentering() {
        // margin [0.5, 0, 1] → logits d − m = [0.5, −0.5, −0.5]:
        //   (ln(1+e^−0.5) + 2 ln(1+e^0.5)) / 3 = 0.80741031751344
        // centring: (r_c + r_r)² = [9, 2.25, 6.25], mean 17.5/3; × 0.01 = 0.058333… → 0.86574365084677
        NDArray margin = m.create(new double[] {0.5, 0, 1});
        assertEquals(0.8074103175134401, BradleyTerry.loss(m.create(RC), m.create(RR), margin, 0).loss().getDouble(), 1e-14);
        BradleyTerry.Result r = BradleyTerry.loss(m.create(RC), m.create(RR), margin, 0.01);
        assertEquals(0.8657436508467734, r.loss().getDouble(), 1e-14);
        assertEquals(1.0 / 3, r.metrics().get("margin"), 1e-15); // TRL's margin metric is r_c − r_r, not minus the margin column
        assertThrows(LoroException.class, () -> BradleyTerry.loss(m.create(RC), m.create(RR), null, -1));
    }

    @Test
    void gradientMatchesCentralDifferences() {
        // d/dr_c = −σ(−(d − m))/B + coef·2(r_c + r_r)/B, checked numerically, including d − m = 0
        int n = GradCheck.check(m, in -> BradleyTerry.loss(in[0], in[1], in[2], 0.05).loss(),
                new double[][] {RC, {1, 1, -0.5}, {1, 0, 0}}, new Shape[] {new Shape(3), new Shape(3), new Shape(3)}, 0, 1);
        assertEquals(6, n);
    }
}
