package ai.loro.dpo;

import static org.junit.jupiter.api.Assertions.*;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.loro.core.LoroException;
import ai.loro.core.loss.GradCheck;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Worked example, B = 2, β = 0.1: π_c = [−10, −20], π_r = [−12, −15], ref_c = [−11, −18],
 * ref_r = [−11, −16]. Policy gap [2, −5], reference gap [0, −2], so h = [2, −3], βh = [0.2, −0.3].
 * Write a = softplus(−βh) = −log σ(βh) and note softplus(βh) = a + βh.
 */
class DpoLossTest {
    static NDManager m;

    @BeforeAll
    static void up() {
        m = NDManager.newBaseManager();
    }

    @AfterAll
    static void down() {
        m.close();
    }

    static final double[] PC = {-10, -20};
    static final double[] PR = {-12, -15};
    static final double[] RC = {-11, -18};
    static final double[] RR = {-11, -16};

    static DpoLoss.Result run(DpoLoss.Options o) {
        return DpoLoss.loss(m.create(PC), m.create(PR), m.create(RC), m.create(RR), o);
    }

    @Test
    void sigmoidByHandWithMetrics() {
        // mean(a) = (ln(1 + e^−0.2) + ln(1 + e^0.3)) / 2 = (0.59813886938159 + 0.85435524446853) / 2
        DpoLoss.Result r = run(new DpoLoss.Options(0.1, "sigmoid"));
        assertEquals(0.7262470569250594, r.loss().getDouble(), 1e-14);
        // rewards: chosen β(π_c − ref_c) = [0.1, −0.2], rejected β(π_r − ref_r) = [−0.1, 0.1]
        assertArrayEquals(new double[] {0.1, -0.2}, r.chosenRewards().toDoubleArray(), 1e-14);
        assertArrayEquals(new double[] {-0.1, 0.1}, r.rejectedRewards().toDoubleArray(), 1e-14);
        Map<String, Double> x = r.metrics();
        assertEquals(List.of("rewards/chosen", "rewards/rejected", "rewards/accuracies", "rewards/margins",
                "logps/chosen", "logps/rejected"), List.copyOf(x.keySet()));
        assertEquals(-0.05, x.get("rewards/chosen"), 1e-14);
        assertEquals(0.0, x.get("rewards/rejected"), 1e-14);
        assertEquals(0.5, x.get("rewards/accuracies"), 0); // 0.1 > −0.1 yes, −0.2 > 0.1 no
        assertEquals(-0.05, x.get("rewards/margins"), 1e-14); // mean([0.2, −0.3])
        assertEquals(-15, x.get("logps/chosen"), 0);
        assertEquals(-13.5, x.get("logps/rejected"), 0);
    }

    @Test
    void labelSmoothingAndRobustByHand() {
        // cDPO, ε = 0.1: 0.9a + 0.1(a + βh) = a + 0.1βh → 0.72624705692506 + 0.1·(−0.05) = 0.72124705692506
        assertEquals(0.7212470569250595, run(new DpoLoss.Options(0.1, "sigmoid", 0.1, null)).loss().getDouble(), 1e-14);
        // robust, ε = 0.1: (0.9a − 0.1(a + βh)) / 0.8 = a − 0.125βh → 0.72624705692506 + 0.00625
        assertEquals(0.7324970569250595, run(new DpoLoss.Options(0.1, "robust", 0.1, null)).loss().getDouble(), 1e-14);
        // ε = 0: robust = sigmoid
        assertEquals(0.7262470569250594, run(new DpoLoss.Options(0.1, "robust", 0, null)).loss().getDouble(), 1e-14);
    }

    @Test
    void hingeByHand() {
        // relu(1 − βh) = [0.8, 1.3] → 1.05; at β = 1: relu(1 − [2, −3]) = [0, 4] → 2
        assertEquals(1.05, run(new DpoLoss.Options(0.1, "hinge")).loss().getDouble(), 1e-14);
        assertEquals(2.0, run(new DpoLoss.Options(1, "hinge")).loss().getDouble(), 1e-14);
    }

    @Test
    void ipoUsesAverageLogProbsPerToken() {
        // β = 0.5 → 1/(2β) = 1. Lengths chosen [4, 5], rejected [2, 5]:
        // π_c = [−2.5, −4], π_r = [−6, −3], ref_c = [−2.75, −3.6], ref_r = [−5.5, −3.2]
        // h = [3.5 − 2.75, −1 + 0.4] = [0.75, −0.6]; (h − 1)² = [0.0625, 2.56] → 1.31125
        DpoLoss.Result r = DpoLoss.loss(m.create(PC), m.create(PR), m.create(RC), m.create(RR),
                m.create(new long[] {4, 5}), m.create(new long[] {2, 5}), null, new DpoLoss.Options(0.5, "ipo"));
        assertEquals(1.31125, r.loss().getDouble(), 1e-14);
        // rewards on averages: chosen 0.5·[0.25, −0.4], rejected 0.5·[−0.5, 0.2]
        assertArrayEquals(new double[] {0.125, -0.2}, r.chosenRewards().toDoubleArray(), 1e-14);
        assertArrayEquals(new double[] {-0.25, 0.1}, r.rejectedRewards().toDoubleArray(), 1e-14);
        assertEquals(-3.25, r.metrics().get("logps/chosen"), 1e-14);
        assertEquals(-4.5, r.metrics().get("logps/rejected"), 1e-14);
        LoroException e = assertThrows(LoroException.class, () -> run(new DpoLoss.Options(0.5, "ipo")));
        assertEquals("loss_type ipo needs the chosen and rejected response lengths (token counts)", e.getMessage());
    }

    @Test
    void rpoAddsAlphaTimesChosenNll() {
        // token log-probs [[−1, −2, pad], [−3, pad, pad]] (pads are −inf, masked): NLL = (1 + 2 + 3)/3 = 2
        NDArray lp = m.create(new double[] {-1, -2, Double.NEGATIVE_INFINITY, -3, Double.NEGATIVE_INFINITY,
                Double.NEGATIVE_INFINITY}, new Shape(2, 3));
        NDArray mask = m.create(new long[] {1, 1, 0, 1, 0, 0}, new Shape(2, 3));
        NDArray nll = SequenceLogProbs.nll(lp, mask);
        assertEquals(2.0, nll.getDouble(), 1e-15);
        DpoLoss.Result r = DpoLoss.loss(m.create(PC), m.create(PR), m.create(RC), m.create(RR), null, null, nll,
                new DpoLoss.Options(0.1, "sigmoid", 0, 0.5));
        assertEquals(0.7262470569250594 + 0.5 * 2, r.loss().getDouble(), 1e-14);
        assertEquals(2.0, r.metrics().get("nll_loss"), 1e-15);
    }

    @Test
    void sequenceLogProbsSumAndMean() {
        // rows: [−1, −2, pad] → sum −3, mean −1.5; [−3, pad, pad] → −3, −3
        NDArray lp = m.create(new float[] {-1, -2, Float.NaN, -3, Float.NEGATIVE_INFINITY, 7}, new Shape(2, 3));
        NDArray mask = m.create(new boolean[] {true, true, false, true, false, false}, new Shape(2, 3));
        assertArrayEquals(new float[] {-3, -3}, SequenceLogProbs.sum(lp, mask).toFloatArray());
        assertArrayEquals(new float[] {-1.5f, -3}, SequenceLogProbs.mean(lp, mask).toFloatArray());
    }

    @Test
    void validation() {
        assertEquals("beta must be a finite number > 0, got 0.0",
                assertThrows(LoroException.class, () -> new DpoLoss.Options(0, "sigmoid")).getMessage());
        assertThrows(LoroException.class, () -> new DpoLoss.Options(0.1, "sigmoid", 0.5, null));
        assertThrows(LoroException.class, () -> new DpoLoss.Options(0.1, "sigmoid", -0.1, null));
        assertEquals("label_smoothing must be in [0, 0.5) (robust divides by 1 − 2·label_smoothing), got 0.5",
                assertThrows(LoroException.class, () -> new DpoLoss.Options(0.1, "robust", 0.5, null)).getMessage());
        assertEquals("unknown DPO loss_type 'kto_pair'; allowed: sigmoid, hinge, ipo, robust",
                assertThrows(LoroException.class, () -> new DpoLoss.Options(0.1, "kto_pair")).getMessage());
        assertThrows(LoroException.class, () -> DpoLoss.loss(m.create(PC), m.create(PR), m.create(RC), m.create(RR),
                new DpoLoss.Options(0.1, "sigmoid", 0, 1.0)));
    }

    @Test
    void firstStepGradientIsMinusBetaOverTwoB() {
        // policy = reference → h = 0, loss = ln 2, and ∂loss/∂π_c = −β σ(0) / B = −0.1 · 0.5 / 2 = −0.025
        NDArray pc = m.create(new double[] {-3, -4});
        pc.setRequiresGradient(true);
        try (var gc = ai.djl.engine.Engine.getInstance().newGradientCollector()) {
            DpoLoss.Result r = DpoLoss.loss(pc, m.create(new double[] {-5, -6}), m.create(new double[] {-3, -4}),
                    m.create(new double[] {-5, -6}), new DpoLoss.Options(0.1, "sigmoid"));
            assertEquals(Math.log(2), r.loss().getDouble(), 1e-15);
            gc.backward(r.loss());
        }
        assertArrayEquals(new double[] {-0.025, -0.025}, pc.getGradient().toDoubleArray(), 1e-15);
    }

    @Test
    void gradientsMatchCentralDifferences() {
        Shape b = new Shape(3);
        // third pair has h = 0 exactly (policy = reference): the kink-free logsigmoid matters there
        double[][] in = {{-10, -20, -3}, {-12, -15, -5}, {-11, -18, -3}, {-11, -16, -5}};
        Shape[] shapes = {b, b, b, b};
        for (String type : new String[] {"sigmoid", "robust"}) {
            DpoLoss.Options o = new DpoLoss.Options(0.3, type, 0.15, null);
            assertEquals(6, GradCheck.check(m, x -> DpoLoss.loss(x[0], x[1], x[2], x[3], o).loss(), in, shapes, 0, 1));
        }
        DpoLoss.Options plain = new DpoLoss.Options(0.3, "sigmoid");
        assertEquals(6, GradCheck.check(m, x -> DpoLoss.loss(x[0], x[1], x[2], x[3], plain).loss(), in, shapes, 0, 1));
        DpoLoss.Options ipo = new DpoLoss.Options(0.5, "ipo");
        assertEquals(6, GradCheck.check(m, x -> DpoLoss.loss(x[0], x[1], x[2], x[3], m.create(new long[] {4, 5, 2}),
                m.create(new long[] {2, 5, 3}), null, ipo).loss(), in, shapes, 0, 1));
    }
}
