package ai.loro.core.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.DataType;
import ai.djl.nn.Activation;
import ai.loro.core.loss.LossOps;

/**
 * The math of a Llama decoder, one static function per block, following transformers'
 * modeling_llama.py (docs/llama-math.md). Every function puts its input activation first in each op so
 * that results join the step's manager, never a parameter's (docs/engine.md, "Memory").
 */
public final class LlamaMath {
    private LlamaMath() {}

    /** Additive value for masked attention scores: finite so fully masked rows give no NaN. */
    static double maskValue(DataType dtype) {
        return dtype == DataType.FLOAT16 ? -65504.0 : -1e30;
    }


    /**
     * RMSNorm: {@code weight * (x / sqrt(mean(x²) + eps))}, the normalisation computed in at least
     * fp32 and cast back before the weight multiply, as transformers does.
     */
    public static NDArray rmsNorm(NDArray x, NDArray weight, double eps) { // x (..., H), weight (H)
        DataType in = x.getDataType();
        NDArray wide = LossOps.widen(x); // fp16 → fp32, differentiably
        NDArray variance = wide.square().mean(new int[] {-1}, true); // (..., 1)
        NDArray normed = wide.mul(variance.add(eps).pow(LossOps.constant(variance, -0.5)));
        return LossOps.narrow(normed, in).mul(weight);
    }

    /** {@code cat(-x[..., d/2:], x[..., :d/2])} — HF's rotate_half, not interleaved pairs. */
    public static NDArray rotateHalf(NDArray x) { // (B, H, T, D)
        long half = x.getShape().getShape()[3] / 2;
        NDArray first = x.get(new NDIndex("..., :{}", half));
        NDArray second = x.get(new NDIndex("..., {}:", half));
        return second.neg().concat(first, -1);
    }

    /** {@code x * cos + rotate_half(x) * sin}. */
    public static NDArray applyRope(NDArray x, NDArray cos, NDArray sin) { // x (B, H, T, D); cos, sin (B, 1, T, D)
        return x.mul(cos).add(rotateHalf(x).mul(sin));
    }

    /**
     * Position ids from a padding mask, as transformers' generate computes them: {@code cumsum(mask)
     * - 1}, pads clamped to 0. Left-padded rows thus start at position 0 at their first real token.
     *
     * @param mask (B, S) with 1 for real tokens, 0 for padding, over the whole sequence so far
     * @return the positions of the last {@code newTokens} columns, (B, T), int64
     */
    public static NDArray positionsFromMask(NDArray mask, int newTokens) {
        NDArray pos = mask.toType(DataType.INT64, false).cumSum(1).sub(1).maximum(0); // (B, S)
        long s = mask.getShape().get(1);
        return pos.get(new NDIndex(":, {}:", s - newTokens));
    }

    /**
     * Additive attention bias for {@code newTokens} queries that follow {@code past} cached
     * positions: 0 where query i may see key j (j ≤ past + i and key j is not padding), a large
     * negative value elsewhere.
     *
     * @param mask (B, S) padding mask over all S = past + newTokens keys
     * @return (B, 1, T, S) in {@code dtype}
     */
    public static NDArray attentionBias(NDArray mask, int past, int newTokens, DataType dtype) {
        NDManager m = mask.getManager();
        long s = mask.getShape().get(1);
        NDArray keyPos = m.arange(0, (int) s, 1, DataType.INT64).reshape(1, s); // (1, S)
        NDArray queryPos = m.arange(past, past + newTokens, 1, DataType.INT64).reshape(newTokens, 1); // (T, 1)
        NDArray causal = keyPos.lte(queryPos); // (T, S)
        NDArray keyIsReal = mask.toType(DataType.BOOLEAN, false).reshape(mask.getShape().get(0), 1, 1, s); // (B, 1, 1, S)
        NDArray allowed = keyIsReal.logicalAnd(causal.reshape(1, 1, newTokens, s)); // (B, 1, T, S)
        return allowed.toType(dtype, false).sub(1).mul(-maskValue(dtype));
    }

    /**
     * Additive attention bias for packed rows: query i sees key j only when j ≤ i, both belong to
     * the same example (segment id), and key j is not padding (segment 0). No example attends to
     * another packed beside it.
     *
     * @param segments (B, T) int64 segment ids, 1, 2, ... per example, 0 for padding
     * @return (B, 1, T, T) in {@code dtype}
     */
    public static NDArray packedAttentionBias(NDArray segments, DataType dtype) {
        long t = segments.getShape().get(1);
        NDManager m = segments.getManager();
        NDArray pos = m.arange(0, (int) t, 1, DataType.INT64);
        NDArray causal = pos.reshape(1, t).lte(pos.reshape(t, 1)); // (T, T): key ≤ query
        NDArray same = segments.expandDims(2).eq(segments.expandDims(1)); // (B, T, T)
        NDArray keyReal = segments.neq(0).expandDims(1); // (B, 1, T)
        NDArray allowed = same.logicalAnd(keyReal).logicalAnd(causal).expandDims(1); // (B, 1, T, T)
        return allowed.toType(dtype, false).sub(1).mul(-maskValue(dtype));
    }

    /**
     * Scaled dot-product attention with grouped key/value heads (query head h reads kv head
     * h / nRep, transformers' repeat_kv). Softmax in at least fp32.
     *
     * @param q (B, H, T, D)
     * @param k (B, KV, S, D)
     * @param v (B, KV, S, D)
     * @param bias (B, 1, T, S) additive mask
     * @return (B, H, T, D)
     */
    public static NDArray attention(NDArray q, NDArray k, NDArray v, NDArray bias) {
        long[] qs = q.getShape().getShape(); // (B, H, T, D)
        long b = qs[0], heads = qs[1], t = qs[2], d = qs[3];
        long kvHeads = k.getShape().get(1);
        long s = k.getShape().get(2);
        long nRep = heads / kvHeads;
        // grouped queries without copying keys/values: heads h = kv·nRep + r share kv head kv, so
        // (B, H, T, D) viewed as (B, KV, nRep·T, D) multiplies each kv head's K/V once
        NDArray qg = nRep > 1 ? q.reshape(b, kvHeads, nRep * t, d) : q;
        NDArray scores = qg.matMul(k.transpose(0, 1, 3, 2)).mul(LossOps.constant(q, 1.0 / Math.sqrt(d))); // (B, KV, nRep·T, S)
        if (nRep > 1) {
            scores = scores.reshape(b, heads, t, s);
        }
        scores = scores.add(bias); // (B, H, T, S)
        DataType in = scores.getDataType();
        NDArray probs = LossOps.narrow(LossOps.widen(scores).softmax(-1), in); // softmax in at least fp32
        if (nRep == 1) {
            return probs.matMul(v);
        }
        return probs.reshape(b, kvHeads, nRep * t, s).matMul(v).reshape(b, heads, t, d); // (B, H, T, D)
    }


    /** SiLU(x) = x · σ(x). */
    public static NDArray silu(NDArray x) {
        return x.mul(Activation.sigmoid(x));
    }

    /** (B, T, H·D) ↔ (B, H, T, D). */
    static NDArray splitHeads(NDArray x, long heads, long headDim) {
        long[] s = x.getShape().getShape();
        return x.reshape(s[0], s[1], heads, headDim).transpose(0, 2, 1, 3);
    }

    static NDArray mergeHeads(NDArray x) { // (B, H, T, D) → (B, T, H·D)
        long[] s = x.getShape().getShape();
        return x.transpose(0, 2, 1, 3).reshape(s[0], s[2], s[1] * s[3]);
    }
}
