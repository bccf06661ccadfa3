package ai.loro.core.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.loro.core.generate.Sampler;
import ai.loro.core.generate.SamplingParams;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * Where a single-stream decode step's time goes: the step of {@link ai.loro.core.generate.Generator}
 * (the path before docs/decode-profile.md's changes, host mask, logits copied to Java, sampling in
 * Java) re-run part by part with a clock around each part. libtorch's CPU ops are synchronous, so a
 * part's wall time is its own. For {@code loro bench --profile-decode} only.
 */
public final class DecodeProfile {
    private DecodeProfile() {}

    /** Mean milliseconds per decode step of each part, in the order they run, and the whole step. */
    public static Map<String, Double> run(LlamaModel model, int context, int steps) {
        LlamaConfig c = model.config();
        int layers = c.numHiddenLayers();
        String[] names = {"host mask rebuilt + copied in", "positions + attention bias", "rope cos/sin", "embedding",
                "layers: rmsnorm (attn)", "layers: q/k/v linear", "layers: split heads + rope", "layers: kv-cache write + views",
                "layers: attention (scores, softmax, values)", "layers: merge heads + o linear + residual",
                "layers: rmsnorm (mlp)", "layers: gate/up linear + silu", "layers: down linear + residual", "final rmsnorm",
                "lm head (128k x hidden matmul)" , "logits to Java (toFloatArray)", "argmax in Java (greedy)",
                "top-p 0.9 sampling in Java", "JNI: one tiny op (x + y, 1 element)"};
        long[] nanos = new long[names.length];
        SplittableRandom rng = new SplittableRandom(1);
        long[] prompt = new long[context];
        for (int i = 0; i < context; i++) {
            prompt[i] = rng.nextInt(c.vocabSize());
        }
        SamplingParams topP = new SamplingParams(1, 1.0, 0, 0.9, 1, java.util.List.of(), false);
        long wholeNanos = 0;
        int measured = 0;
        int warm = 3;
        int capacity = context + steps + warm + 1;
        long[] mask = new long[capacity];
        try (NDManager gen = model.manager().newSubManager(); KvCache cache = model.newCache(1, capacity)) {
            long[] stepIds = prompt;
            java.util.Arrays.fill(mask, 0, context, 1L);
            for (int step = 0; step < steps + warm + 1; step++) {
                boolean timed = step > warm; // step 0 is the prefill
                long[] t = new long[names.length];
                int total = cache.length() + stepIds.length;
                long stepStart = System.nanoTime();
                float[] last;
                try (NDScope scope = new NDScope(); NDManager sm = gen.newSubManager()) {
                    scope.suppressNotUsedWarning();
                    long s = System.nanoTime();
                    NDArray ids = sm.create(stepIds, new Shape(1, stepIds.length));
                    long[] flat = new long[total];
                    System.arraycopy(mask, 0, flat, 0, total);
                    NDArray m = sm.create(flat, new Shape(1, total));
                    s = lap(t, 0, s);
                    NDArray positions = LlamaMath.positionsFromMask(m, stepIds.length);
                    NDArray bias = LlamaMath.attentionBias(m, cache.length(), stepIds.length, model.dtype());
                    s = lap(t, 1, s);
                    NDArray[] cs = model.rope().cosSin(positions, total - 1);
                    s = lap(t, 2, s);
                    NDArray x = model.embedding(ids);
                    s = lap(t, 3, s);
                    for (int l = 0; l < layers; l++) {
                        x = layer(model, l, x, cs[0], cs[1], bias, cache, t);
                    }
                    cache.advance(stepIds.length);
                    s = System.nanoTime();
                    NDArray hidden = LlamaMath.rmsNorm(x, model.finalNorm(), c.rmsNormEps());
                    NDArray lastHidden = hidden.get(new NDIndex(":, -1:, :"));
                    s = lap(t, 13, s);
                    NDArray logits = model.logits(lastHidden);
                    s = lap(t, 14, s);
                    last = logits.toType(DataType.FLOAT32, false).toFloatArray();
                    s = lap(t, 15, s);
                    int token = Sampler.argmax(last);
                    s = lap(t, 16, s);
                    Sampler.sample(last, topP, rng);
                    s = lap(t, 17, s);
                    NDArray one = sm.create(new float[] {1f});
                    NDArray two = sm.create(new float[] {2f});
                    s = System.nanoTime();
                    for (int i = 0; i < 100; i++) {
                        one.add(two);
                    }
                    t[18] = (System.nanoTime() - s) / 100;
                    stepIds = new long[] {token};
                    mask[total] = 1L;
                }
                long whole = System.nanoTime() - stepStart - t[17] - t[18]; // the step as Generator runs it greedily
                if (timed) {
                    for (int i = 0; i < names.length; i++) {
                        nanos[i] += t[i];
                    }
                    wholeNanos += whole;
                    measured++;
                }
            }
        }
        Map<String, Double> out = new LinkedHashMap<>();
        for (int i = 0; i < names.length; i++) {
            out.put(names[i], nanos[i] / 1e6 / measured);
        }
        out.put("whole greedy step", wholeNanos / 1e6 / measured);
        return out;
    }

    private static long lap(long[] t, int part, long since) {
        long now = System.nanoTime();
        t[part] += now - since;
        return now;
    }

    /** {@link LlamaModel#decoderLayer} with a clock around each part. */
    private static NDArray layer(LlamaModel model, int l, NDArray x, NDArray cos, NDArray sin, NDArray bias, KvCache cache,
                                 long[] t) {
        LlamaModel.Layer p = model.layer(l);
        LlamaConfig c = model.config();
        double eps = c.rmsNormEps();
        boolean a = model.adaptersEnabled();
        long s = System.nanoTime();
        NDArray h = LlamaMath.rmsNorm(x, p.inputNorm(), eps);
        s = lap(t, 4, s);
        NDArray q = p.q().apply(h, a);
        NDArray k = p.k().apply(h, a);
        NDArray v = p.v().apply(h, a);
        s = lap(t, 5, s);
        q = LlamaMath.applyRope(LlamaMath.splitHeads(q, c.numAttentionHeads(), c.headDim()), cos, sin);
        k = LlamaMath.applyRope(LlamaMath.splitHeads(k, c.numKeyValueHeads(), c.headDim()), cos, sin);
        v = LlamaMath.splitHeads(v, c.numKeyValueHeads(), c.headDim());
        s = lap(t, 6, s);
        NDArray[] kv = cache.append(l, k, v);
        s = lap(t, 7, s);
        NDArray attn = LlamaMath.attention(q, kv[0], kv[1], bias);
        s = lap(t, 8, s);
        x = x.add(p.o().apply(LlamaMath.mergeHeads(attn), a));
        s = lap(t, 9, s);
        h = LlamaMath.rmsNorm(x, p.postNorm(), eps);
        s = lap(t, 10, s);
        NDArray gated = LlamaMath.silu(p.gate().apply(h, a)).mul(p.up().apply(h, a));
        s = lap(t, 11, s);
        x = x.add(p.down().apply(gated, a));
        lap(t, 12, s);
        return x;
    }
}
