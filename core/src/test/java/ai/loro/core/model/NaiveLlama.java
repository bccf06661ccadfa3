package ai.loro.core.model;

import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Random;

/**
 * Deliberately naive, plain-Java, fp64 reference of Hugging Face {@code LlamaForCausalLM.forward} for ONE sequence
 * (no batch, no KV cache, no padding mask), written from the math in docs/llama-math.md. Used as an independent oracle
 * for the DJL model. No NDArray: plain loops over {@code double[]}; obviously correct rather than fast.
 *
 * <p>Weights are given by exact HF state-dict names, each row-major; nn.Linear weights have layout [out, in]. Differences
 * from HF that are intentional: everything is fp64 (HF computes RoPE angles and RMSNorm in fp32 and casts activations to
 * the model dtype); with {@code tieWordEmbeddings} the head always uses {@code model.embed_tokens.weight} (any
 * {@code lm_head.weight} in the map is ignored, as HF ties it to the embedding).
 */
final class NaiveLlama {

    record Dims(int vocab, int hidden, int intermediate, int layers, int heads, int kvHeads, int headDim,
                double rmsNormEps, boolean tieWordEmbeddings, boolean attentionBias, boolean mlpBias) {
        Dims {
            if (vocab <= 0 || hidden <= 0 || intermediate <= 0 || layers < 0 || heads <= 0 || kvHeads <= 0 || headDim <= 0) {
                throw new IllegalArgumentException("non-positive dimension in " + this);
            }
            if (heads % kvHeads != 0) {
                throw new IllegalArgumentException("heads " + heads + " not a multiple of kvHeads " + kvHeads);
            }
            if (headDim % 2 != 0) {
                throw new IllegalArgumentException("headDim must be even for RoPE: " + headDim);
            }
        }
    }

    private final Dims dims;
    private final double[] invFreq;
    private final Map<String, double[]> w;

    NaiveLlama(Dims dims, double[] invFreq, Map<String, double[]> weights) {
        this.dims = dims;
        if (invFreq.length != dims.headDim() / 2) {
            throw new IllegalArgumentException("invFreq length " + invFreq.length + " != headDim/2 = " + dims.headDim() / 2);
        }
        this.invFreq = invFreq.clone();
        this.w = new LinkedHashMap<>();
        // Check every expected tensor is present with the right element count.
        for (Map.Entry<String, int[]> e : weightShapes(dims).entrySet()) {
            double[] t = weights.get(e.getKey());
            if (t == null) {
                throw new IllegalArgumentException("missing weight " + e.getKey());
            }
            long n = 1;
            for (int s : e.getValue()) {
                n *= s;
            }
            if (t.length != n) {
                throw new IllegalArgumentException(e.getKey() + " has " + t.length + " elements, expected "
                        + Arrays.toString(e.getValue()));
            }
            w.put(e.getKey(), t.clone());
        }
    }

    /** Expected state-dict names and shapes for {@code dims}, in HF order (lm_head omitted when tied). */
    static LinkedHashMap<String, int[]> weightShapes(Dims d) {
        LinkedHashMap<String, int[]> m = new LinkedHashMap<>();
        int q = d.heads() * d.headDim();
        int kv = d.kvHeads() * d.headDim();
        m.put("model.embed_tokens.weight", new int[] {d.vocab(), d.hidden()});
        for (int l = 0; l < d.layers(); l++) {
            String p = "model.layers." + l + ".";
            m.put(p + "self_attn.q_proj.weight", new int[] {q, d.hidden()});
            if (d.attentionBias()) {
                m.put(p + "self_attn.q_proj.bias", new int[] {q});
            }
            m.put(p + "self_attn.k_proj.weight", new int[] {kv, d.hidden()});
            if (d.attentionBias()) {
                m.put(p + "self_attn.k_proj.bias", new int[] {kv});
            }
            m.put(p + "self_attn.v_proj.weight", new int[] {kv, d.hidden()});
            if (d.attentionBias()) {
                m.put(p + "self_attn.v_proj.bias", new int[] {kv});
            }
            m.put(p + "self_attn.o_proj.weight", new int[] {d.hidden(), q});
            if (d.attentionBias()) {
                m.put(p + "self_attn.o_proj.bias", new int[] {d.hidden()});
            }
            m.put(p + "mlp.gate_proj.weight", new int[] {d.intermediate(), d.hidden()});
            if (d.mlpBias()) {
                m.put(p + "mlp.gate_proj.bias", new int[] {d.intermediate()});
            }
            m.put(p + "mlp.up_proj.weight", new int[] {d.intermediate(), d.hidden()});
            if (d.mlpBias()) {
                m.put(p + "mlp.up_proj.bias", new int[] {d.intermediate()});
            }
            m.put(p + "mlp.down_proj.weight", new int[] {d.hidden(), d.intermediate()});
            if (d.mlpBias()) {
                m.put(p + "mlp.down_proj.bias", new int[] {d.hidden()});
            }
            m.put(p + "input_layernorm.weight", new int[] {d.hidden()});
            m.put(p + "post_attention_layernorm.weight", new int[] {d.hidden()});
        }
        m.put("model.norm.weight", new int[] {d.hidden()});
        if (!d.tieWordEmbeddings()) {
            m.put("lm_head.weight", new int[] {d.vocab(), d.hidden()});
        }
        return m;
    }

    Dims dims() {
        return dims;
    }

    // ------------------------------------------------------------------ forward

    /** Logits for one sequence at positions 0..T-1, shape (T, vocab). */
    double[][] logits(long[] ids) {
        long[] pos = new long[ids.length];
        for (int i = 0; i < pos.length; i++) {
            pos[i] = i;
        }
        return logits(ids, pos);
    }

    /** Logits for one sequence with explicit position ids, shape (T, vocab). */
    double[][] logits(long[] ids, long[] positionIds) {
        double[][] h = hiddenStates(ids, positionIds);
        double[] head = dims.tieWordEmbeddings() ? w.get("model.embed_tokens.weight") : w.get("lm_head.weight");
        double[][] out = new double[h.length][];
        for (int t = 0; t < h.length; t++) {
            out[t] = linear(h[t], head, null, dims.vocab(), dims.hidden());
        }
        return out;
    }

    /** Output of the final norm {@code model.norm}, shape (T, hidden). */
    double[][] hiddenStates(long[] ids, long[] positionIds) {
        if (ids.length != positionIds.length) {
            throw new IllegalArgumentException("ids and positionIds differ in length");
        }
        int seq = ids.length;
        int hid = dims.hidden();
        double[] emb = w.get("model.embed_tokens.weight");
        double[][] x = new double[seq][hid];
        for (int t = 0; t < seq; t++) {
            if (ids[t] < 0 || ids[t] >= dims.vocab()) {
                throw new IllegalArgumentException("token id out of range: " + ids[t]);
            }
            System.arraycopy(emb, (int) ids[t] * hid, x[t], 0, hid);
        }
        for (int l = 0; l < dims.layers(); l++) {
            x = decoderLayer(l, x, positionIds);
        }
        double[] normW = w.get("model.norm.weight");
        double[][] out = new double[seq][];
        for (int t = 0; t < seq; t++) {
            out[t] = rmsNorm(x[t], normW, dims.rmsNormEps());
        }
        return out;
    }

    private double[][] decoderLayer(int l, double[][] x, long[] pos) {
        String p = "model.layers." + l + ".";
        int seq = x.length;
        int hid = dims.hidden();
        int nh = dims.heads();
        int nkv = dims.kvHeads();
        int hd = dims.headDim();
        int nRep = nh / nkv;
        double scale = 1.0 / Math.sqrt(hd);

        // --- self attention
        double[][][] q = new double[seq][nh][];
        double[][][] k = new double[seq][nkv][];
        double[][][] v = new double[seq][nkv][];
        for (int t = 0; t < seq; t++) {
            double[] n = rmsNorm(x[t], w.get(p + "input_layernorm.weight"), dims.rmsNormEps());
            double[] qa = linear(n, w.get(p + "self_attn.q_proj.weight"), bias(p + "self_attn.q_proj.bias"), nh * hd, hid);
            double[] ka = linear(n, w.get(p + "self_attn.k_proj.weight"), bias(p + "self_attn.k_proj.bias"), nkv * hd, hid);
            double[] va = linear(n, w.get(p + "self_attn.v_proj.weight"), bias(p + "self_attn.v_proj.bias"), nkv * hd, hid);
            for (int h = 0; h < nh; h++) {
                q[t][h] = applyRope(Arrays.copyOfRange(qa, h * hd, (h + 1) * hd), invFreq, pos[t]);
            }
            for (int h = 0; h < nkv; h++) {
                k[t][h] = applyRope(Arrays.copyOfRange(ka, h * hd, (h + 1) * hd), invFreq, pos[t]);
                v[t][h] = Arrays.copyOfRange(va, h * hd, (h + 1) * hd);
            }
        }
        double[][] afterAttn = new double[seq][];
        for (int t = 0; t < seq; t++) {
            double[] concat = new double[nh * hd];
            for (int h = 0; h < nh; h++) {
                int g = h / nRep; // repeat_kv == repeat_interleave: query head h reads kv head h / n_rep
                // causal: keys s = 0..t only (the additive finfo.min mask gives exactly zero weight elsewhere)
                double[] scores = new double[t + 1];
                for (int s = 0; s <= t; s++) {
                    double dot = 0;
                    for (int i = 0; i < hd; i++) {
                        dot += q[t][h][i] * k[s][g][i];
                    }
                    scores[s] = dot * scale;
                }
                double[] prob = softmax(scores);
                for (int s = 0; s <= t; s++) {
                    for (int i = 0; i < hd; i++) {
                        concat[h * hd + i] += prob[s] * v[s][g][i];
                    }
                }
            }
            double[] o = linear(concat, w.get(p + "self_attn.o_proj.weight"), bias(p + "self_attn.o_proj.bias"), hid, nh * hd);
            afterAttn[t] = add(x[t], o);
        }

        // --- MLP
        int inter = dims.intermediate();
        double[][] out = new double[seq][];
        for (int t = 0; t < seq; t++) {
            double[] n = rmsNorm(afterAttn[t], w.get(p + "post_attention_layernorm.weight"), dims.rmsNormEps());
            double[] gate = linear(n, w.get(p + "mlp.gate_proj.weight"), bias(p + "mlp.gate_proj.bias"), inter, hid);
            double[] up = linear(n, w.get(p + "mlp.up_proj.weight"), bias(p + "mlp.up_proj.bias"), inter, hid);
            double[] act = new double[inter];
            for (int i = 0; i < inter; i++) {
                act[i] = silu(gate[i]) * up[i];
            }
            double[] down = linear(act, w.get(p + "mlp.down_proj.weight"), bias(p + "mlp.down_proj.bias"), hid, inter);
            out[t] = add(afterAttn[t], down);
        }
        return out;
    }

    private double[] bias(String name) {
        return w.get(name); // null when the flag is off (weightShapes did not require it)
    }

    // ------------------------------------------------------------------ building blocks

    /** y[o] = sum_i W[o, i] * x[i] + b[o], W row-major [out, in]. */
    static double[] linear(double[] x, double[] weight, double[] bias, int out, int in) {
        if (x.length != in || weight.length != (long) out * in || (bias != null && bias.length != out)) {
            throw new IllegalArgumentException("linear shape mismatch");
        }
        double[] y = new double[out];
        for (int o = 0; o < out; o++) {
            double s = 0;
            for (int i = 0; i < in; i++) {
                s += weight[o * in + i] * x[i];
            }
            y[o] = bias == null ? s : s + bias[o];
        }
        return y;
    }

    static double silu(double z) {
        return z / (1.0 + Math.exp(-z));
    }

    private static double[] add(double[] a, double[] b) {
        double[] c = new double[a.length];
        for (int i = 0; i < a.length; i++) {
            c[i] = a[i] + b[i];
        }
        return c;
    }

    static double[] softmax(double[] row) {
        double max = Double.NEGATIVE_INFINITY;
        for (double r : row) {
            max = Math.max(max, r);
        }
        double sum = 0;
        double[] e = new double[row.length];
        for (int i = 0; i < row.length; i++) {
            e[i] = Math.exp(row[i] - max);
            sum += e[i];
        }
        for (int i = 0; i < row.length; i++) {
            e[i] /= sum;
        }
        return e;
    }

    /** log_softmax(row) = row - max - log(sum exp(row - max)). */
    static double[] logSoftmax(double[] row) {
        double max = Double.NEGATIVE_INFINITY;
        for (double r : row) {
            max = Math.max(max, r);
        }
        double sum = 0;
        for (double r : row) {
            sum += Math.exp(r - max);
        }
        double lse = max + Math.log(sum);
        double[] out = new double[row.length];
        for (int i = 0; i < row.length; i++) {
            out[i] = row[i] - lse;
        }
        return out;
    }

    /** y = weight * x / sqrt(mean(x^2) + eps). */
    static double[] rmsNorm(double[] x, double[] weight, double eps) {
        if (x.length != weight.length) {
            throw new IllegalArgumentException("rmsNorm length mismatch");
        }
        double ss = 0;
        for (double xi : x) {
            ss += xi * xi;
        }
        double r = 1.0 / Math.sqrt(ss / x.length + eps);
        double[] y = new double[x.length];
        for (int i = 0; i < x.length; i++) {
            y[i] = weight[i] * (x[i] * r);
        }
        return y;
    }

    /**
     * HF rotate_half RoPE on one head vector of even length d: with half = d/2, angle_i = position * invFreq[i] and
     * emb = cat(freqs, freqs), out = x*cos(emb) + rotate_half(x)*sin(emb) where rotate_half(x) = cat(-x[half:], x[:half]).
     * Element i pairs with element i + half (NOT with its neighbour).
     */
    static double[] applyRope(double[] x, double[] invFreq, long position) {
        int d = x.length;
        int half = d / 2;
        if (d % 2 != 0 || invFreq.length != half) {
            throw new IllegalArgumentException("applyRope: head length " + d + " vs invFreq length " + invFreq.length);
        }
        double[] out = new double[d];
        for (int i = 0; i < half; i++) {
            double angle = (double) position * invFreq[i];
            double c = Math.cos(angle);
            double s = Math.sin(angle);
            out[i] = x[i] * c - x[i + half] * s;
            out[i + half] = x[i + half] * c + x[i] * s;
        }
        return out;
    }

    /** inv_freq[i] = 1 / theta^(2i/d), i = 0..d/2-1. */
    static double[] invFreqDefault(int headDim, double ropeTheta) {
        double[] f = new double[headDim / 2];
        for (int i = 0; i < f.length; i++) {
            f[i] = 1.0 / Math.pow(ropeTheta, (2.0 * i) / headDim);
        }
        return f;
    }

    /** rope_type "linear": default inv_freq divided by factor. */
    static double[] invFreqLinear(int headDim, double ropeTheta, double factor) {
        double[] f = invFreqDefault(headDim, ropeTheta);
        for (int i = 0; i < f.length; i++) {
            f[i] /= factor;
        }
        return f;
    }

    /** rope_type "llama3" (transformers _compute_llama3_parameters). */
    static double[] invFreqLlama3(int headDim, double ropeTheta, double factor, double lowFreqFactor,
                                  double highFreqFactor, int originalMaxPositionEmbeddings) {
        double[] f = invFreqDefault(headDim, ropeTheta);
        double lowWl = originalMaxPositionEmbeddings / lowFreqFactor;
        double highWl = originalMaxPositionEmbeddings / highFreqFactor;
        for (int i = 0; i < f.length; i++) {
            double wavelen = 2 * Math.PI / f[i];
            if (wavelen > lowWl) {
                f[i] = f[i] / factor;
            } else if (wavelen < highWl) {
                // unchanged
            } else {
                double s = (originalMaxPositionEmbeddings / wavelen - lowFreqFactor) / (highFreqFactor - lowFreqFactor);
                f[i] = (1 - s) * f[i] / factor + s * f[i];
            }
        }
        return f;
    }

    /**
     * Deterministic random weights for {@code dims}: every tensor of {@link #weightShapes} (biases iff flags set, no
     * lm_head when tied) filled in that order from one {@code java.util.Random(seed)}: linear weights, biases and
     * embeddings N(0, std^2); norm weights 1 + N(0, std^2).
     */
    static Map<String, double[]> randomWeights(Dims dims, long seed, double std) {
        Random rnd = new Random(seed);
        Map<String, double[]> m = new LinkedHashMap<>();
        for (Map.Entry<String, int[]> e : weightShapes(dims).entrySet()) {
            int n = 1;
            for (int s : e.getValue()) {
                n *= s;
            }
            boolean norm = e.getKey().endsWith("norm.weight");
            double[] t = new double[n];
            for (int i = 0; i < n; i++) {
                t[i] = (norm ? 1.0 : 0.0) + std * rnd.nextGaussian();
            }
            m.put(e.getKey(), t);
        }
        return m;
    }
}
