package ai.loro.cli.bench;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.ndarray.types.SparseFormat;
import ai.djl.nn.Activation;
import ai.djl.nn.core.Embedding;
import ai.djl.nn.core.Linear;
import ai.djl.training.GradientCollector;
import ai.loro.core.loss.LossOps;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * The benchmark's bare baseline: one causal-LM training step (forward, next-token cross-entropy,
 * backward, an in-place SGD update) written straight on DJL NDArrays with no framework around it —
 * no masks, no data pipeline, no LoRA objects, no optimizer state, no logging. The framework's full
 * step is measured against this. Llama math as in transformers; weights are the model's own.
 */
public final class BareTrainStep {
    private final Map<String, NDArray> w; // HF names
    private final List<NDArray> trainable;
    private final Map<String, NDArray[]> lora; // module → {A (r,in), B (out,r)}, or empty
    private final int layers, heads, kvHeads, headDim;
    private final double eps, loraScale;
    private final NDArray cos, sin, causal; // (T, D), (T, D), (T, T) additive

    public BareTrainStep(Map<String, NDArray> weights, Map<String, NDArray[]> lora, double loraScale, int layers, int heads,
                         int kvHeads, int headDim, double eps, double theta, int seq, NDManager m) {
        this.w = weights;
        this.lora = lora;
        this.loraScale = loraScale;
        this.layers = layers;
        this.heads = heads;
        this.kvHeads = kvHeads;
        this.headDim = headDim;
        this.eps = eps;
        trainable = new ArrayList<>();
        if (lora.isEmpty()) {
            trainable.addAll(weights.values());
        } else {
            lora.values().forEach(ab -> trainable.addAll(List.of(ab)));
        }
        trainable.forEach(p -> p.setRequiresGradient(true));
        NDArray inv = m.arange(0, headDim, 2, DataType.FLOAT32).div(headDim).mul(-Math.log(theta)).exp(); // (D/2)
        NDArray freqs = m.arange(0, seq, 1, DataType.FLOAT32).reshape(seq, 1).mul(inv.reshape(1, headDim / 2));
        NDArray emb = freqs.concat(freqs, 1);
        cos = emb.cos();
        sin = emb.sin();
        NDArray pos = m.arange(0, seq, 1, DataType.INT64);
        causal = pos.reshape(1, seq).gt(pos.reshape(seq, 1)).toType(DataType.FLOAT32, false).mul(-1e30f);
    }

    private NDArray lin(NDArray x, String module) {
        NDArray y = Linear.linear(x, w.get(module + ".weight")).singletonOrThrow();
        NDArray[] ab = lora.get(module);
        if (ab != null) {
            NDArray a = Linear.linear(x, ab[0]).singletonOrThrow();
            y = y.add(LossOps.times(Linear.linear(a, ab[1]).singletonOrThrow(), loraScale));
        }
        return y;
    }

    private NDArray rms(NDArray x, String weight) {
        return x.mul(x.square().mean(new int[] {-1}, true).add(eps).pow(LossOps.constant(x, -0.5))).mul(w.get(weight));
    }

    private NDArray rope(NDArray x) { // (B, H, T, D)
        NDArray rot = x.get(new NDIndex("..., " + headDim / 2 + ":")).neg().concat(x.get(new NDIndex("..., :" + headDim / 2)), -1);
        return x.mul(cos).add(rot.mul(sin));
    }

    /** One step on ids (B, T); returns the mean loss. */
    public float step(NDArray ids, float lr) {
        long b = ids.getShape().get(0), t = ids.getShape().get(1);
        float value;
        try (GradientCollector gc = Engine.getInstance().newGradientCollector()) {
            NDArray x = Embedding.embedding(ids, w.get("model.embed_tokens.weight"), SparseFormat.DENSE).singletonOrThrow();
            for (int l = 0; l < layers; l++) {
                String p = "model.layers." + l + ".";
                NDArray h = rms(x, p + "input_layernorm.weight");
                NDArray q = rope(lin(h, p + "self_attn.q_proj").reshape(b, t, heads, headDim).transpose(0, 2, 1, 3));
                NDArray k = rope(lin(h, p + "self_attn.k_proj").reshape(b, t, kvHeads, headDim).transpose(0, 2, 1, 3));
                NDArray v = lin(h, p + "self_attn.v_proj").reshape(b, t, kvHeads, headDim).transpose(0, 2, 1, 3);
                int rep = heads / kvHeads;
                k = k.expandDims(2).broadcast(b, kvHeads, rep, t, headDim).reshape(b, heads, t, headDim);
                v = v.expandDims(2).broadcast(b, kvHeads, rep, t, headDim).reshape(b, heads, t, headDim);
                NDArray att = q.matMul(k.transpose(0, 1, 3, 2)).mul(LossOps.constant(q, 1.0 / Math.sqrt(headDim))).add(causal).softmax(-1).matMul(v);
                x = x.add(lin(att.transpose(0, 2, 1, 3).reshape(b, t, heads * headDim), p + "self_attn.o_proj"));
                h = rms(x, p + "post_attention_layernorm.weight");
                NDArray g = lin(h, p + "mlp.gate_proj");
                x = x.add(lin(g.mul(Activation.sigmoid(g)).mul(lin(h, p + "mlp.up_proj")), p + "mlp.down_proj"));
            }
            NDArray head = w.containsKey("lm_head.weight") ? w.get("lm_head.weight") : w.get("model.embed_tokens.weight");
            NDArray logits = Linear.linear(rms(x, "model.norm.weight"), head).singletonOrThrow();
            NDArray logp = logits.get(new NDIndex(":, :-1")).logSoftmax(-1);
            NDArray loss = logp.gather(ids.get(new NDIndex(":, 1:")).expandDims(-1), -1).mean().neg();
            gc.backward(loss);
            value = loss.getFloat();
        }
        for (NDArray p : trainable) { // outside the collector: no grad mode for in-place updates
            NDArray g = p.getGradient();
            p.subi(g.mul(lr));
            g.subi(g);
        }
        return value;
    }

}
