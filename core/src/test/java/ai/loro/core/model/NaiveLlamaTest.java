package ai.loro.core.model;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;
import java.util.HashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * Checks the naive fp64 Llama reference against values computed independently (by hand, or by the small pure-Python
 * scripts quoted in the comments, which use only the {@code math} module and were written from docs/llama-math.md,
 * not from NaiveLlama).
 */
class NaiveLlamaTest {

    private static final double TIGHT = 1e-13;

    // ------------------------------------------------------------------ RMSNorm

    @Test
    void rmsNormExactCase() {
        // x = [2,-2,2,-2]: mean(x^2) = 4, eps = 0 -> 1/sqrt(4) = 0.5, so y = w * x * 0.5 = w * [1,-1,1,-1].
        double[] y = NaiveLlama.rmsNorm(new double[] {2, -2, 2, -2}, new double[] {1, 0.5, 2, -1}, 0.0);
        assertArrayEquals(new double[] {1, -0.5, 2, 1}, y, 0.0);
    }

    @Test
    void rmsNormWithEps() {
        // x = [1,2,3,4], w = [1,0.5,2,-1], eps = 1e-6: mean(x^2) = (1+4+9+16)/4 = 7.5, r = 1/sqrt(7.500001).
        // y = [1*1, 0.5*2, 2*3, -1*4] * r = [1, 1, 6, -4] * r; python: 1/math.sqrt(7.5+1e-6) = 0.3651483473268884
        double[] y = NaiveLlama.rmsNorm(new double[] {1, 2, 3, 4}, new double[] {1, 0.5, 2, -1}, 1e-6);
        assertArrayEquals(new double[] {0.3651483473268884, 0.3651483473268884, 2.1908900839613303, -1.4605933893075536},
                y, TIGHT);
    }

    // ------------------------------------------------------------------ RoPE

    @Test
    void invFreqDefaultAndLinear() {
        // d = 4, theta = 10000: i = 0 -> 1/10000^0 = 1; i = 1 -> 1/10000^(2/4) = 1/100 = 0.01.
        assertArrayEquals(new double[] {1.0, 0.01}, NaiveLlama.invFreqDefault(4, 10000), 1e-17);
        // linear factor 4: [0.25, 0.0025]
        assertArrayEquals(new double[] {0.25, 0.0025}, NaiveLlama.invFreqLinear(4, 10000, 4), 1e-17);
        // d = 128, theta = 500000, i = 32: 500000^(-64/128) = 1/sqrt(500000) = 0.001414213562373095...
        double[] f = NaiveLlama.invFreqDefault(128, 500000);
        assertEquals(64, f.length);
        assertEquals(1 / Math.sqrt(500000), f[32], 1e-18);
        double[] lin = NaiveLlama.invFreqLinear(128, 500000, 8);
        for (int i = 0; i < 64; i++) {
            assertEquals(f[i] / 8, lin[i], 0.0);
        }
    }

    @Test
    void ropeRotateHalfPosition1And2() {
        // head x = [1,2,3,4], d = 4, half = 2, inv_freq = [1, 0.01]; rotate_half pairs element i with i + 2:
        //   emb = cat(freqs, freqs) = [p, 0.01p, p, 0.01p]; rotate_half(x) = [-3, -4, 1, 2]
        //   out = [1 cos p - 3 sin p, 2 cos .01p - 4 sin .01p, 3 cos p + 1 sin p, 4 cos .01p + 2 sin .01p]
        // python (math.cos/math.sin):
        //   p=1: [-1.9841106485555495, 1.959900667496664, 2.4623779024123156, 4.019799668334994]
        //   p=2: [-3.1440391170241875, 1.9196053465598233, -0.33914308281574557, 4.039197360052977]
        double[] inv = {1.0, 0.01};
        double[] x = {1, 2, 3, 4};
        assertArrayEquals(new double[] {-1.9841106485555495, 1.959900667496664, 2.4623779024123156, 4.019799668334994},
                NaiveLlama.applyRope(x, inv, 1), TIGHT);
        assertArrayEquals(new double[] {-3.1440391170241875, 1.9196053465598233, -0.33914308281574557, 4.039197360052977},
                NaiveLlama.applyRope(x, inv, 2), TIGHT);
        // the interleaved (GPT-J / Meta) convention would pair (x0,x1): out0 = 1 cos 1 - 2 sin 1 = -1.142... != -1.984...
        assertTrue(Math.abs(NaiveLlama.applyRope(x, inv, 1)[0] - (Math.cos(1) - 2 * Math.sin(1))) > 0.5);
        // position 0 is the identity; rotations preserve the norm (1+4+9+16 = 30)
        assertArrayEquals(x, NaiveLlama.applyRope(x, inv, 0), 0.0);
        double[] r = NaiveLlama.applyRope(x, inv, 12345);
        assertEquals(30.0, r[0] * r[0] + r[1] * r[1] + r[2] * r[2] + r[3] * r[3], 1e-12);
        assertArrayEquals(x, new double[] {1, 2, 3, 4}, 0.0); // input untouched
    }

    @Test
    void llama3InvFreqBands() {
        // Llama 3.1: head_dim 128, theta 500000, factor 8, low 1, high 4, original 8192.
        // low_wl = 8192/1 = 8192, high_wl = 8192/4 = 2048, wavelen_i = 2 pi / inv_i, inv_i = 500000^(-2i/128).
        // python (pieces.py, formula of docs/llama-math.md), (i, band, inv_i, wavelen_i, expected):
        //   0  high  1.0                    6.283185307179586   1.0
        //   10 high  0.12868737343265052    48.8251888245115    0.12868737343265052
        //   28 high  0.0032114459947525913  1956.4972655452177  0.0032114459947525913  (last index with wavelen < 2048)
        //   29 med s=(8192/2401.738-1)/3=0.803621042099634      0.002166570763503359   (= (1-s)*inv/8 + s*inv)
        //   32 med s=0.28128260516325104, inv=1/sqrt(500000)    0.0005248461609929547
        //   34 med s=0.07452656416074303                        0.00017850781276799638 (last medium, wavelen 6695.1)
        //   35 low   0.0007644969883171747  8218.718194051036   9.556212353964683e-05  (= inv/8, first wavelen > 8192)
        //   63 low   2.455140791131609e-06  2559195.5173713593  3.068925988914511e-07
        double[] f = NaiveLlama.invFreqLlama3(128, 500000, 8, 1, 4, 8192);
        assertEquals(64, f.length);
        assertRel(1.0, f[0]);
        assertRel(0.12868737343265052, f[10]);
        assertRel(0.0032114459947525913, f[28]);
        assertRel(0.002166570763503359, f[29]);
        assertRel(0.0005248461609929547, f[32]);
        assertRel(0.00017850781276799638, f[34]);
        assertRel(9.556212353964683e-05, f[35]);
        assertRel(3.068925988914511e-07, f[63]);
        // band structure: 0..28 untouched, 35..63 divided by 8, 29..34 strictly in between
        double[] d = NaiveLlama.invFreqDefault(128, 500000);
        for (int i = 0; i < 64; i++) {
            if (i <= 28) {
                assertEquals(d[i], f[i], 0.0);
            } else if (i >= 35) {
                assertEquals(d[i] / 8, f[i], 0.0);
            } else {
                assertTrue(f[i] < d[i] && f[i] > d[i] / 8, "medium band at " + i);
            }
        }
    }

    // ------------------------------------------------------------------ log-softmax

    @Test
    void logSoftmax() {
        // [1,2,3]: lse = 3 + ln(1 + e^-1 + e^-2) = 3.4076059644443806 (python)
        assertArrayEquals(new double[] {-2.4076059644443806, -1.4076059644443806, -0.4076059644443806},
                NaiveLlama.logSoftmax(new double[] {1, 2, 3}), TIGHT);
        // stable for large inputs: [1000, 1000] -> [-ln 2, -ln 2]
        assertArrayEquals(new double[] {-Math.log(2), -Math.log(2)}, NaiveLlama.logSoftmax(new double[] {1000, 1000}), TIGHT);
    }

    // ------------------------------------------------------------------ tiny full models vs independent python
    /*
     * Expected logits below come from this stand-alone python3 script (math module only). It follows the structure of
     * transformers' modeling_llama.py: rotate_half by concatenation with emb = cat(freqs, freqs), repeat_kv by repeating
     * each kv head n_rep times in order, additive -inf causal mask, softmax, o_proj, SiLU-gated MLP, final norm, head.
     *
     * import math
     * def mat(flat, rows, cols): return [flat[r*cols:(r+1)*cols] for r in range(rows)]
     * def lin(W, x, b=None): return [sum(wi*xi for wi, xi in zip(row, x)) + (b[o] if b else 0.0) for o, row in enumerate(W)]
     * def rms(x, w, eps):
     *     var = sum(v*v for v in x)/len(x); r = 1/math.sqrt(var+eps); return [wi*(xi*r) for wi, xi in zip(w, x)]
     * def rotate_half(x): h = len(x)//2; return [-v for v in x[h:]] + x[:h]
     * def rope(x, inv, pos):
     *     freqs = [pos*f for f in inv]; emb = freqs + freqs
     *     rh = rotate_half(x); return [x[i]*math.cos(emb[i]) + rh[i]*math.sin(emb[i]) for i in range(len(x))]
     * def silu(z): return z/(1+math.exp(-z))
     * def forward(cfg, W, ids, pos):
     *     H, nh, nkv, hd, V, I, eps = cfg['H'], cfg['nh'], cfg['nkv'], cfg['hd'], cfg['V'], cfg['I'], cfg['eps']
     *     inv = [1/cfg['theta']**(j/hd) for j in range(0, hd, 2)]
     *     E = mat(W['embed'], V, H); x = [list(E[i]) for i in ids]; T = len(ids)
     *     n = [rms(r, W['ln1'], eps) for r in x]
     *     q = [lin(mat(W['q'], nh*hd, H), r, W.get('qb')) for r in n]
     *     k = [lin(mat(W['k'], nkv*hd, H), r, W.get('kb')) for r in n]
     *     v = [lin(mat(W['v'], nkv*hd, H), r, W.get('vb')) for r in n]
     *     Q = [[rope(q[t][h*hd:(h+1)*hd], inv, pos[t]) for t in range(T)] for h in range(nh)]
     *     K = [[rope(k[t][g*hd:(g+1)*hd], inv, pos[t]) for t in range(T)] for g in range(nkv)]
     *     Vv = [[v[t][g*hd:(g+1)*hd] for t in range(T)] for g in range(nkv)]
     *     rep = nh // nkv
     *     K = [kk for kk in K for _ in range(rep)]   # repeat_interleave along head dim
     *     Vv = [vv for vv in Vv for _ in range(rep)]
     *     attn = [[0.0]*(nh*hd) for _ in range(T)]
     *     for h in range(nh):
     *         for t in range(T):
     *             sc = [sum(a*b for a, b in zip(Q[h][t], K[h][s]))*hd**-0.5 + (0.0 if s <= t else -math.inf) for s in range(T)]
     *             m = max(sc); e = [math.exp(s_-m) for s_ in sc]; z = sum(e); p = [ei/z for ei in e]
     *             for i in range(hd): attn[t][h*hd+i] = sum(p[s]*Vv[h][s][i] for s in range(T))
     *     o = [lin(mat(W['o'], H, nh*hd), a, W.get('ob')) for a in attn]
     *     h1 = [[a+b for a, b in zip(x[t], o[t])] for t in range(T)]
     *     n2 = [rms(r, W['ln2'], eps) for r in h1]
     *     g = [lin(mat(W['gate'], I, H), r, W.get('gb')) for r in n2]
     *     u = [lin(mat(W['up'], I, H), r, W.get('ub')) for r in n2]
     *     d = [lin(mat(W['down'], H, I), [silu(a)*b for a, b in zip(g[t], u[t])], W.get('db')) for t in range(T)]
     *     h2 = [[a+b for a, b in zip(h1[t], d[t])] for t in range(T)]
     *     hn = [rms(r, W['norm'], eps) for r in h2]
     *     head = mat(W['lm_head'], V, H) if 'lm_head' in W else E
     *     return hn, [lin(head, r) for r in hn]
     * A = dict(H=4, nh=2, nkv=1, hd=2, V=5, I=3, eps=1e-5, theta=10000.0)
     * WA = dict(embed=..., ln1=..., ...)   # exactly the literals of modelAWeights() below
     * hA, lA = forward(A, WA, [3, 1], [0, 1])
     * def pat(n, a, b): return [((i*a + b) % 17 - 8)/8 for i in range(n)]
     * B = dict(H=4, nh=2, nkv=1, hd=4, V=5, I=3, eps=1e-6, theta=100.0)
     * WB = dict(embed=pat(20,5,1), ln1=[1+x/4 for x in pat(4,3,2)], q=pat(32,7,3), qb=pat(8,4,5), k=pat(16,3,6),
     *  kb=pat(4,2,7), v=pat(16,5,8), vb=pat(4,6,9), o=pat(32,11,10), ob=pat(4,3,11), ln2=[1+x/4 for x in pat(4,5,12)],
     *  gate=pat(12,7,13), gb=pat(3,2,14), up=pat(12,9,15), ub=pat(3,4,16), down=pat(12,5,0), db=pat(4,7,1),
     *  norm=[1+x/4 for x in pat(4,2,2)], lm_head=pat(20,3,4))
     * hB, lB = forward(B, WB, [2, 4, 0], [3, 4, 9])
     */

    private static final NaiveLlama.Dims DIMS_A =
            new NaiveLlama.Dims(5, 4, 3, 1, 2, 1, 2, 1e-5, true, false, false);

    private static Map<String, double[]> modelAWeights() {
        Map<String, double[]> m = new HashMap<>();
        m.put("model.embed_tokens.weight", new double[] {0.1, -0.2, 0.3, 0.4, -0.5, 0.6, 0.2, -0.1, 0.3, 0.3, -0.4, 0.2,
            0.7, -0.1, 0.1, -0.6, -0.2, -0.4, 0.5, 0.3});
        m.put("model.layers.0.input_layernorm.weight", new double[] {1.0, 0.5, -1.5, 2.0});
        m.put("model.layers.0.self_attn.q_proj.weight", new double[] {0.5, -0.3, 0.2, 0.1, 0.4, 0.6, -0.2, 0.3, -0.7, 0.1,
            0.5, 0.2, 0.3, -0.4, 0.1, 0.6});
        m.put("model.layers.0.self_attn.k_proj.weight", new double[] {0.2, 0.5, -0.6, 0.3, -0.1, 0.4, 0.7, -0.5});
        m.put("model.layers.0.self_attn.v_proj.weight", new double[] {0.6, -0.2, 0.1, 0.4, 0.3, 0.3, -0.5, 0.2});
        m.put("model.layers.0.self_attn.o_proj.weight", new double[] {0.4, -0.1, 0.2, 0.3, -0.3, 0.5, 0.1, -0.2, 0.2, 0.2,
            -0.4, 0.6, 0.1, -0.6, 0.3, 0.5});
        m.put("model.layers.0.post_attention_layernorm.weight", new double[] {0.8, -1.0, 1.2, 0.6});
        m.put("model.layers.0.mlp.gate_proj.weight", new double[] {0.3, -0.2, 0.5, 0.1, -0.4, 0.6, 0.2, -0.3, 0.7, 0.1,
            -0.1, 0.4});
        m.put("model.layers.0.mlp.up_proj.weight", new double[] {-0.2, 0.4, 0.3, -0.5, 0.6, 0.1, -0.3, 0.2, 0.2, -0.6, 0.4,
            0.1});
        m.put("model.layers.0.mlp.down_proj.weight", new double[] {0.5, -0.3, 0.2, -0.1, 0.4, 0.6, 0.3, 0.2, -0.5, -0.6,
            0.1, 0.3});
        m.put("model.norm.weight", new double[] {1.1, 0.9, -0.8, 1.3});
        return m;
    }

    @Test
    void tinyModelAMatchesIndependentPython() {
        // 1 layer, hidden 4, 2 heads sharing 1 kv head, head_dim 2 (inv_freq = [1]), tied head, no biases; ids [3, 1].
        NaiveLlama m = new NaiveLlama(DIMS_A, NaiveLlama.invFreqDefault(2, 10000), modelAWeights());
        double[][] hidden = m.hiddenStates(new long[] {3, 1}, new long[] {0, 1});
        assertArrayEquals(new double[] {1.5124969135115984, -0.055495656180326564, -0.2897769262793359, -1.8265901033816787},
                hidden[0], TIGHT);
        assertArrayEquals(new double[] {-1.5248047191955973, 0.8428846980883195, -0.6620453097003828, -0.9342323303700145},
                hidden[1], TIGHT);
        double[][] logits = m.logits(new long[] {3, 1});
        assertEquals(2, logits.length);
        assertArrayEquals(new double[] {-0.6552202966492472, -0.6648422253816945, 0.18769312703478014, 2.131273774477225,
            -0.9731666143843606}, logits[0], TIGHT);
        assertArrayEquals(new double[] {-0.8933639365953443, 1.2291473495477152, -0.12660434852603314, -0.6573169059937797,
            -0.6434852893574041}, logits[1], TIGHT);
    }

    /** ((i*a + b) % 17 - 8) / 8, exact binary fractions in [-1, 1]. */
    private static double[] pat(int n, int a, int b) {
        double[] r = new double[n];
        for (int i = 0; i < n; i++) {
            r[i] = ((i * a + b) % 17 - 8) / 8.0;
        }
        return r;
    }

    private static double[] normPat(int n, int a, int b) {
        double[] r = pat(n, a, b);
        for (int i = 0; i < n; i++) {
            r[i] = 1 + r[i] / 4;
        }
        return r;
    }

    @Test
    void tinyModelBWithBiasesUntiedHeadDim4ExplicitPositions() {
        // head_dim 4 != hidden/heads (2), theta 100 -> inv_freq [1, 0.1] (distinguishes rotate_half from interleaving),
        // attention_bias + mlp_bias, untied lm_head, positions [3, 4, 9].
        NaiveLlama.Dims dims = new NaiveLlama.Dims(5, 4, 3, 1, 2, 1, 4, 1e-6, false, true, true);
        String p = "model.layers.0.";
        Map<String, double[]> w = new HashMap<>();
        w.put("model.embed_tokens.weight", pat(20, 5, 1));
        w.put(p + "input_layernorm.weight", normPat(4, 3, 2));
        w.put(p + "self_attn.q_proj.weight", pat(32, 7, 3));
        w.put(p + "self_attn.q_proj.bias", pat(8, 4, 5));
        w.put(p + "self_attn.k_proj.weight", pat(16, 3, 6));
        w.put(p + "self_attn.k_proj.bias", pat(4, 2, 7));
        w.put(p + "self_attn.v_proj.weight", pat(16, 5, 8));
        w.put(p + "self_attn.v_proj.bias", pat(4, 6, 9));
        w.put(p + "self_attn.o_proj.weight", pat(32, 11, 10));
        w.put(p + "self_attn.o_proj.bias", pat(4, 3, 11));
        w.put(p + "post_attention_layernorm.weight", normPat(4, 5, 12));
        w.put(p + "mlp.gate_proj.weight", pat(12, 7, 13));
        w.put(p + "mlp.gate_proj.bias", pat(3, 2, 14));
        w.put(p + "mlp.up_proj.weight", pat(12, 9, 15));
        w.put(p + "mlp.up_proj.bias", pat(3, 4, 16));
        w.put(p + "mlp.down_proj.weight", pat(12, 5, 0));
        w.put(p + "mlp.down_proj.bias", pat(4, 7, 1));
        w.put("model.norm.weight", normPat(4, 2, 2));
        w.put("lm_head.weight", pat(20, 3, 4));
        assertArrayEquals(new double[] {1.0, 0.1}, NaiveLlama.invFreqDefault(4, 100), 1e-17);
        NaiveLlama m = new NaiveLlama(dims, NaiveLlama.invFreqDefault(4, 100), w);
        double[][] logits = m.logits(new long[] {2, 4, 0}, new long[] {3, 4, 9});
        assertArrayEquals(new double[] {1.0779616021690956, -0.08716250286074478, -0.600047637297359, 0.8828294267402368,
            1.3706598653123838}, logits[0], TIGHT);
        assertArrayEquals(new double[] {-0.22609752712688855, 1.8369651944172893, -0.1794498511000778, -0.7167486574718643,
            0.5098791683905752}, logits[1], TIGHT);
        assertArrayEquals(new double[] {1.335080976485834, -0.05404842843183641, -1.5521410576972923, 1.2359228228971235,
            1.4838182068688999}, logits[2], TIGHT);
        // a missing bias is an error when the flag is set
        w.remove(p + "mlp.up_proj.bias");
        assertThrows(IllegalArgumentException.class, () -> new NaiveLlama(dims, NaiveLlama.invFreqDefault(4, 100), w));
    }

    // ------------------------------------------------------------------ structural properties

    private static final NaiveLlama.Dims DIMS_R =
            new NaiveLlama.Dims(11, 16, 24, 2, 4, 2, 4, 1e-5, false, true, true);

    @Test
    void causality() {
        NaiveLlama m = new NaiveLlama(DIMS_R, NaiveLlama.invFreqDefault(4, 10000),
                NaiveLlama.randomWeights(DIMS_R, 7, 0.5));
        long[] base = {1, 2, 3, 4, 5, 6};
        double[][] ref = m.logits(base);
        for (int t = 0; t + 1 < base.length; t++) {
            long[] changed = base.clone();
            changed[t + 1] = (changed[t + 1] + 4) % DIMS_R.vocab();
            double[][] got = m.logits(changed);
            for (int s = 0; s <= t; s++) {
                assertArrayEquals(ref[s], got[s], 0.0, "row " + s + " changed when token " + (t + 1) + " changed");
            }
            assertFalse(Arrays.equals(ref[t + 1], got[t + 1]), "row " + (t + 1) + " must see its own token");
        }
        // a prefix run gives the same rows
        double[][] prefix = m.logits(Arrays.copyOf(base, 3));
        for (int s = 0; s < 3; s++) {
            assertArrayEquals(ref[s], prefix[s], 0.0);
        }
    }

    @Test
    void defaultPositionsAndRelativeInvariance() {
        NaiveLlama m = new NaiveLlama(DIMS_R, NaiveLlama.invFreqDefault(4, 10000),
                NaiveLlama.randomWeights(DIMS_R, 11, 0.5));
        long[] ids = {3, 1, 4, 1, 5};
        double[][] a = m.logits(ids);
        double[][] b = m.logits(ids, new long[] {0, 1, 2, 3, 4});
        for (int t = 0; t < ids.length; t++) {
            assertArrayEquals(a[t], b[t], 0.0);
        }
        // RoPE scores depend only on relative positions (q and k rotated the same way): shifting all positions by 37
        // changes logits only by rounding.
        double[][] c = m.logits(ids, new long[] {37, 38, 39, 40, 41});
        for (int t = 0; t < ids.length; t++) {
            assertArrayEquals(a[t], c[t], 1e-10);
        }
        // ... but non-uniform gaps do change them
        double[][] d = m.logits(ids, new long[] {0, 1, 2, 3, 9});
        assertTrue(Math.abs(a[4][0] - d[4][0]) > 1e-6);
    }

    /**
     * GQA: 4 query heads, 2 kv heads (n_rep 2), head_dim 2, hidden 8. q_proj = 0 makes every score 0, so attention is
     * the plain running mean of v over s <= t. v_proj is non-zero only for kv head {@code live}; o_proj = identity;
     * MLP weights 0 (silu(0) * 0 = 0); final norm weight 1. By hand: pre-norm h_t = x_t + a_t with
     * a_t[2*hq + i] = mean_{s<=t} v_s[i] if hq / 2 == live else 0, v_s = Wv_live . rmsNorm(x_s, ln1).
     * So live = 0 must touch dims 0..3 (query heads 0, 1) and live = 1 dims 4..7 (heads 2, 3); the wrong mapping
     * hq % 2 would touch dims {2,3,6,7} or {0,1,4,5}.
     */
    @Test
    void gqaQueryHeadUsesKvHeadHOverNRep() {
        NaiveLlama.Dims dims = new NaiveLlama.Dims(3, 8, 2, 1, 4, 2, 2, 1e-5, true, false, false);
        for (int live = 0; live < 2; live++) {
            Map<String, double[]> w = NaiveLlama.randomWeights(dims, 100 + live, 0.7);
            String p = "model.layers.0.";
            w.put(p + "self_attn.q_proj.weight", new double[8 * 8]);
            double[] v = w.get(p + "self_attn.v_proj.weight"); // [2 kv heads * 2, 8]
            int dead = 1 - live;
            Arrays.fill(v, dead * 2 * 8, (dead * 2 + 2) * 8, 0.0);
            double[] o = new double[8 * 8];
            for (int i = 0; i < 8; i++) {
                o[i * 8 + i] = 1;
            }
            w.put(p + "self_attn.o_proj.weight", o);
            w.put(p + "mlp.gate_proj.weight", new double[2 * 8]);
            w.put(p + "mlp.up_proj.weight", new double[2 * 8]);
            w.put(p + "mlp.down_proj.weight", new double[8 * 2]);
            double[] ones = new double[8];
            Arrays.fill(ones, 1.0);
            w.put("model.norm.weight", ones);
            NaiveLlama m = new NaiveLlama(dims, NaiveLlama.invFreqDefault(2, 10000), w);

            long[] ids = {2, 0, 1};
            double[][] got = m.hiddenStates(ids, new long[] {0, 1, 2});
            double[] emb = w.get("model.embed_tokens.weight");
            double[] ln1 = w.get(p + "input_layernorm.weight");
            double[] vLive = Arrays.copyOfRange(v, live * 2 * 8, (live * 2 + 2) * 8); // rows of kv head `live`
            double[] sum = new double[2];
            for (int t = 0; t < ids.length; t++) {
                double[] x = Arrays.copyOfRange(emb, (int) ids[t] * 8, (int) ids[t] * 8 + 8);
                double[] vt = NaiveLlama.linear(NaiveLlama.rmsNorm(x, ln1, 1e-5), vLive, null, 2, 8);
                sum[0] += vt[0];
                sum[1] += vt[1];
                double[] h = x.clone();
                double[] hWrong = x.clone();
                for (int hq = 0; hq < 4; hq++) {
                    for (int i = 0; i < 2; i++) {
                        if (hq / 2 == live) {
                            h[2 * hq + i] += sum[i] / (t + 1);
                        }
                        if (hq % 2 == live) {
                            hWrong[2 * hq + i] += sum[i] / (t + 1);
                        }
                    }
                }
                assertArrayEquals(NaiveLlama.rmsNorm(h, ones, 1e-5), got[t], 1e-14, "live " + live + " t " + t);
                double[] wrong = NaiveLlama.rmsNorm(hWrong, ones, 1e-5);
                double diff = 0;
                for (int i = 0; i < 8; i++) {
                    diff = Math.max(diff, Math.abs(wrong[i] - got[t][i]));
                }
                assertTrue(diff > 1e-3, "test must distinguish h / n_rep from h % kvHeads");
            }
        }
    }

    @Test
    void tiedVersusUntiedHead() {
        NaiveLlama.Dims tied = new NaiveLlama.Dims(7, 8, 12, 1, 2, 2, 4, 1e-6, true, false, false);
        NaiveLlama.Dims untied = new NaiveLlama.Dims(7, 8, 12, 1, 2, 2, 4, 1e-6, false, false, false);
        Map<String, double[]> wt = NaiveLlama.randomWeights(tied, 5, 0.4);
        assertFalse(wt.containsKey("lm_head.weight"));
        double[] inv = NaiveLlama.invFreqDefault(4, 10000);
        long[] ids = {6, 0, 3};
        long[] pos = {0, 1, 2};

        // tied: logits[t][v] = <hidden_t, embed row v>
        NaiveLlama mt = new NaiveLlama(tied, inv, wt);
        double[][] h = mt.hiddenStates(ids, pos);
        double[][] lt = mt.logits(ids, pos);
        double[] emb = wt.get("model.embed_tokens.weight");
        for (int t = 0; t < ids.length; t++) {
            for (int v = 0; v < 7; v++) {
                double dot = 0;
                for (int i = 0; i < 8; i++) {
                    dot += h[t][i] * emb[v * 8 + i];
                }
                assertEquals(dot, lt[t][v], 1e-14);
            }
        }

        // untied with its own lm_head: logits[t][v] = <hidden_t, lm_head row v>, different from tied
        Map<String, double[]> wu = new HashMap<>(wt);
        double[] head = NaiveLlama.randomWeights(untied, 99, 0.4).get("lm_head.weight");
        wu.put("lm_head.weight", head);
        NaiveLlama mu = new NaiveLlama(untied, inv, wu);
        double[][] lu = mu.logits(ids, pos);
        for (int t = 0; t < ids.length; t++) {
            assertArrayEquals(h[t], mu.hiddenStates(ids, pos)[t], 0.0); // the body is the same
            for (int v = 0; v < 7; v++) {
                double dot = 0;
                for (int i = 0; i < 8; i++) {
                    dot += h[t][i] * head[v * 8 + i];
                }
                assertEquals(dot, lu[t][v], 1e-14);
            }
            assertFalse(Arrays.equals(lt[t], lu[t]));
        }
        // untied with lm_head == embed reproduces tied exactly
        wu.put("lm_head.weight", emb.clone());
        double[][] same = new NaiveLlama(untied, inv, wu).logits(ids, pos);
        for (int t = 0; t < ids.length; t++) {
            assertArrayEquals(lt[t], same[t], 0.0);
        }
        // untied without lm_head is an error; tied ignores an lm_head entry
        wu.remove("lm_head.weight");
        assertThrows(IllegalArgumentException.class, () -> new NaiveLlama(untied, inv, wu));
        Map<String, double[]> wt2 = new HashMap<>(wt);
        wt2.put("lm_head.weight", head);
        assertArrayEquals(lt[0], new NaiveLlama(tied, inv, wt2).logits(ids, pos)[0], 0.0);
    }

    @Test
    void randomWeightsAreDeterministicAndComplete() {
        Map<String, double[]> a = NaiveLlama.randomWeights(DIMS_R, 3, 0.02);
        Map<String, double[]> b = NaiveLlama.randomWeights(DIMS_R, 3, 0.02);
        Map<String, double[]> c = NaiveLlama.randomWeights(DIMS_R, 4, 0.02);
        assertEquals(a.keySet(), b.keySet());
        for (String k : a.keySet()) {
            assertArrayEquals(a.get(k), b.get(k), 0.0, k);
        }
        assertFalse(Arrays.equals(a.get("model.embed_tokens.weight"), c.get("model.embed_tokens.weight")));
        // 2 layers x (4 attn weights + 4 attn biases + 3 mlp weights + 3 mlp biases + 2 norms) + embed + norm + lm_head
        assertEquals(2 * 16 + 3, a.size());
        assertEquals(11 * 16, a.get("lm_head.weight").length);
        assertEquals(4 * 4 * 16, a.get("model.layers.1.self_attn.q_proj.weight").length);
        assertEquals(2 * 4 * 16, a.get("model.layers.1.self_attn.k_proj.weight").length);
        assertEquals(2 * 4, a.get("model.layers.0.self_attn.v_proj.bias").length);
        assertEquals(16, a.get("model.layers.0.self_attn.o_proj.bias").length);
        assertEquals(16 * 24, a.get("model.layers.0.mlp.down_proj.weight").length);
        assertEquals(16, a.get("model.layers.0.mlp.down_proj.bias").length);
        for (double x : a.get("model.norm.weight")) {
            assertTrue(Math.abs(x - 1) < 0.2); // norms are 1 + noise
        }
        NaiveLlama.Dims plain = new NaiveLlama.Dims(11, 16, 24, 2, 4, 2, 4, 1e-5, true, false, false);
        Map<String, double[]> p = NaiveLlama.randomWeights(plain, 3, 0.02);
        assertEquals(2 * 9 + 2, p.size());
        assertFalse(p.containsKey("lm_head.weight"));
        assertTrue(p.keySet().stream().noneMatch(k -> k.endsWith(".bias")));
    }

    private static void assertRel(double expected, double actual) {
        assertEquals(expected, actual, Math.abs(expected) * 1e-13);
    }
}
