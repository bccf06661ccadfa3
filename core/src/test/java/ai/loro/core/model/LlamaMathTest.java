package ai.loro.core.model;

import static org.junit.jupiter.api.Assertions.*;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** Each block against values worked out by hand (derivations in the comments). */
class LlamaMathTest {
    static NDManager m;

    @BeforeAll
    static void up() {
        m = NDManager.newBaseManager();
    }

    @AfterAll
    static void down() {
        m.close();
    }

    @Test
    void rmsNormByHand() {
        // x = [1, 2, 3, 4]: mean(x²) = 30/4 = 7.5; eps = 0.5 → rsqrt(8) = 0.35355339
        // y = x · 0.35355339 · w, w = [1, 2, 0.5, 1]
        NDArray x = m.create(new double[] {1, 2, 3, 4}, new Shape(1, 4));
        NDArray w = m.create(new double[] {1, 2, 0.5, 1});
        double r = 1 / Math.sqrt(8);
        assertArrayEquals(new double[] {r, 4 * r, 1.5 * r, 4 * r}, LlamaMath.rmsNorm(x, w, 0.5).toDoubleArray(), 1e-12);
        // fp16 input: normalised in fp32, cast back to fp16, then multiplied by the weight
        NDArray h = m.create(new float[] {1, 2, 3, 4}, new Shape(1, 4)).toType(DataType.FLOAT16, false);
        NDArray wh = m.create(new float[] {1, 2, 0.5f, 1}).toType(DataType.FLOAT16, false);
        NDArray y = LlamaMath.rmsNorm(h, wh, 0.5);
        assertEquals(DataType.FLOAT16, y.getDataType());
        assertArrayEquals(new float[] {(float) r, (float) (4 * r), (float) (1.5 * r), (float) (4 * r)},
                y.toType(DataType.FLOAT32, false).toFloatArray(), 1e-3f);
    }

    @Test
    void rotateHalfPairsIWithIPlusHalf() {
        // d = 4: rotate_half([a, b, c, d]) = [-c, -d, a, b]
        NDArray x = m.create(new double[] {1, 2, 3, 4}, new Shape(1, 1, 1, 4));
        assertArrayEquals(new double[] {-3, -4, 1, 2}, LlamaMath.rotateHalf(x).toDoubleArray());
    }

    @Test
    void ropeRotatesEachPairByPositionTimesFrequency() {
        // head_dim 4, theta 10000: inv_freq = [1, 1/100]. Position 1: angles [1, 0.01] for both halves.
        // pair (x0, x2) rotates by 1 rad, pair (x1, x3) by 0.01 rad:
        // x0' = x0 cos1 - x2 sin1, x2' = x2 cos1 + x0 sin1 (same for 1,3 with 0.01)
        LlamaConfig c = TinyConfigs.parse(TinyConfigs.json(10, 8, 8, 1, 2, 2));
        assertArrayEquals(new double[] {1, 0.01}, Rope.invFreq(c, false), 1e-15);
        Rope rope = new Rope(c, m, DataType.FLOAT64);
        NDArray[] cs = rope.cosSin(m.create(new long[] {1}, new Shape(1, 1)), 1);
        NDArray x = m.create(new double[] {1, 2, 3, 4}, new Shape(1, 1, 1, 4));
        double[] y = LlamaMath.applyRope(x, cs[0], cs[1]).toDoubleArray();
        double c1 = Math.cos(1), s1 = Math.sin(1), c2 = Math.cos(0.01), s2 = Math.sin(0.01);
        assertArrayEquals(new double[] {1 * c1 - 3 * s1, 2 * c2 - 4 * s2, 3 * c1 + 1 * s1, 4 * c2 + 2 * s2}, y, 1e-12);
        // position 0 is the identity
        NDArray[] cs0 = rope.cosSin(m.create(new long[] {0}, new Shape(1, 1)), 0);
        assertArrayEquals(new double[] {1, 2, 3, 4}, LlamaMath.applyRope(x, cs0[0], cs0[1]).toDoubleArray(), 1e-15);
    }

    @Test
    void llama3FrequencyScalingBranches() {
        // head_dim 128, theta 500000, factor 8, low 1, high 4, original context 8192:
        // low_wavelen = 8192, high_wavelen = 2048.
        // i = 0: inv = 1, wavelen 2π < 2048 → unchanged (high frequency).
        // i = 63: inv = 500000^(-126/128) = 2.4287e-6, wavelen 2.587e6 > 8192 → inv / 8.
        // i = 40: inv = 500000^(-80/128) = 2.7425e-4 → wavelen 22910.6 > 8192 → inv / 8.
        // i = 30: inv = 500000^(-60/128) = e^(-13.1224·60/128) = 2.13112e-3 → wavelen 2948.30,
        //   medium band (2048 ≤ 2948.3 ≤ 8192): s = (8192/2948.30 - 1)/(4 - 1) = 0.592849;
        //   inv' = (1-s)·inv/8 + s·inv = (0.407151/8 + 0.592849)·inv = 0.643743·inv.
        com.fasterxml.jackson.databind.node.ObjectNode o = TinyConfigs.json(10, 256, 8, 1, 2, 2);
        o.put("rope_theta", 500000.0);
        o.putObject("rope_scaling").put("rope_type", "llama3").put("factor", 8.0).put("low_freq_factor", 1.0)
                .put("high_freq_factor", 4.0).put("original_max_position_embeddings", 8192);
        LlamaConfig c = TinyConfigs.parse(o);
        double[] inv = Rope.invFreq(c, false);
        assertEquals(1.0, inv[0], 1e-15);
        double base63 = Math.pow(500000, -126.0 / 128);
        assertEquals(base63 / 8, inv[63], 1e-18);
        assertEquals(Math.pow(500000, -80.0 / 128) / 8, inv[40], 1e-15);
        double base30 = Math.pow(500000, -60.0 / 128);
        double wavelen = 2 * Math.PI / base30;
        assertEquals(2948.30, wavelen, 0.01);
        double s = (8192 / wavelen - 1) / 3;
        assertEquals(0.592849, s, 1e-6);
        assertEquals((1 - s) * base30 / 8 + s * base30, inv[30], 1e-15);
        assertEquals(0.643743 * base30, inv[30], 1e-9);
        // float32 mode agrees to float precision
        double[] f = Rope.invFreq(c, true);
        for (int i = 0; i < inv.length; i++) {
            assertEquals(inv[i], f[i], Math.abs(inv[i]) * 1e-6, "i=" + i);
        }
    }

    @Test
    void linearScalingDividesEveryFrequency() {
        com.fasterxml.jackson.databind.node.ObjectNode o = TinyConfigs.json(10, 8, 8, 1, 2, 2);
        o.putObject("rope_scaling").put("type", "linear").put("factor", 4.0);
        assertArrayEquals(new double[] {0.25, 0.0025}, Rope.invFreq(TinyConfigs.parse(o), false), 1e-15);
    }

    @Test
    void positionsFollowThePaddingMask() {
        // left padding [0 0 1 1 1] → positions [0 0 0 1 2]; right padding [1 1 0] → [0 1 1]
        NDArray left = m.create(new long[] {0, 0, 1, 1, 1}, new Shape(1, 5));
        assertArrayEquals(new long[] {0, 0, 0, 1, 2}, LlamaMath.positionsFromMask(left, 5).toLongArray());
        assertArrayEquals(new long[] {1, 2}, LlamaMath.positionsFromMask(left, 2).toLongArray());
        NDArray right = m.create(new long[] {1, 1, 0}, new Shape(1, 3));
        assertArrayEquals(new long[] {0, 1, 1}, LlamaMath.positionsFromMask(right, 3).toLongArray());
    }

    @Test
    void attentionBiasIsCausalAndHidesPadding() {
        // one row, keys [pad, a, b], 2 cached positions + 1 new query at position 2 → sees keys 1, 2
        NDArray mask = m.create(new long[] {0, 1, 1, 1, 1, 0}, new Shape(2, 3));
        double big = -LlamaMath.maskValue(DataType.FLOAT64);
        double[] decode = LlamaMath.attentionBias(mask, 2, 1, DataType.FLOAT64).toDoubleArray(); // (2,1,1,3)
        assertArrayEquals(new double[] {-big, 0, 0, 0, 0, -big}, decode);
        double[] full = LlamaMath.attentionBias(mask, 0, 3, DataType.FLOAT64).toDoubleArray(); // (2,1,3,3)
        assertArrayEquals(new double[] {
            -big, -big, -big, -big, 0, -big, -big, 0, 0,   // row 0: key 0 is padding
            0, -big, -big, 0, 0, -big, 0, 0, -big          // row 1: key 2 is padding
        }, full);
    }

    @Test
    void groupedQueryHeadsReadTheirKvHead() {
        // 4 query heads over 2 kv heads: heads 0,1 read kv 0; heads 2,3 read kv 1 (transformers' repeat_kv).
        // With one key the output is that key's value regardless of the scores.
        NDArray kv = m.create(new double[] {10, 20}, new Shape(1, 2, 1, 1));
        NDArray q = m.randomNormal(new Shape(1, 4, 1, 1)).toType(DataType.FLOAT64, false);
        NDArray bias = m.zeros(new Shape(1, 1, 1, 1), DataType.FLOAT64);
        assertArrayEquals(new double[] {10, 10, 20, 20}, LlamaMath.attention(q, kv, kv, bias).toDoubleArray(), 1e-12);
    }

    @Test
    void attentionByHand() {
        // one head, D = 1, scale 1: q = 1 at t = 1, keys [0, 2], values [1, 3]:
        // scores [0, 2] → softmax [1/(1+e²), e²/(1+e²)] → 1·0.1192 + 3·0.8808 = 2.7616
        NDArray q = m.create(new double[] {5, 1}, new Shape(1, 1, 2, 1));
        NDArray k = m.create(new double[] {0, 2}, new Shape(1, 1, 2, 1));
        NDArray v = m.create(new double[] {1, 3}, new Shape(1, 1, 2, 1));
        NDArray bias = LlamaMath.attentionBias(m.ones(new Shape(1, 2), DataType.INT64), 0, 2, DataType.FLOAT64);
        double[] out = LlamaMath.attention(q, k, v, bias).toDoubleArray();
        double e2 = Math.exp(2);
        assertEquals(1.0, out[0], 1e-12); // t = 0 sees only key 0
        assertEquals((1 + 3 * e2) / (1 + e2), out[1], 1e-12);
    }

    @Test
    void siluByHand() {
        NDArray x = m.create(new double[] {-1, 0, 2});
        double[] y = LlamaMath.silu(x).toDoubleArray();
        assertArrayEquals(new double[] {-1 / (1 + Math.E), 0, 2 / (1 + Math.exp(-2))}, y, 1e-15);
    }
}
