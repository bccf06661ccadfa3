package ai.loro.core.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.loro.core.quant.Quantization;
import ai.loro.core.quant.QuantizedWeight;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The quantized frozen base of a {@link LlamaModel}: quantizing its decoder projections, and what a
 * caller needs to know about them afterwards. The state lives in the model's {@link Projection}s
 * (each holds its own {@link QuantizedWeight}); this class only walks them.
 */
public final class QuantizedBase {
    private QuantizedBase() {}

    /** What {@link #quantize} did: projections, their parameter count and the bytes now stored for them. */
    public record QuantStats(int projections, long parameters, long bytes) {}

    /**
     * Quantizes the seven projections of every decoder layer (never embeddings, norms, lm_head or
     * score) and frees their full-precision weights; biases stay full precision.
     *
     * @param mode none | int8 | nf4 (nf4 with double quantization, as QLoRA)
     */
    public static QuantStats quantize(LlamaModel model, String mode) {
        Quantization.Mode m = Quantization.Mode.parse(mode);
        if (m == Quantization.Mode.NONE) {
            return new QuantStats(0, 0, 0);
        }
        if (!weights(model).isEmpty()) {
            throw new IllegalStateException("model is already quantized (" + mode(model) + ")");
        }
        int count = 0;
        long params = 0;
        long bytes = 0;
        for (int l = 0; l < model.config().numHiddenLayers(); l++) {
            for (HfNames.Proj p : HfNames.Proj.values()) {
                QuantizedWeight q = model.layer(l).projection(p)
                        .quantize(w -> Quantization.quantize(w, m, model.manager()));
                model.dropParameter(HfNames.weight(l, p));
                count++;
                params += q.shape().size();
                bytes += q.storageBytes();
            }
        }
        return new QuantStats(count, params, bytes);
    }

    /** none | int8 | nf4. */
    public static String mode(LlamaModel model) {
        Map<String, QuantizedWeight> q = weights(model);
        return q.isEmpty() ? "none" : q.values().iterator().next().mode();
    }

    /** The quantized projection weights by HF name, layer by layer (empty unless {@link #quantize} ran). */
    public static Map<String, QuantizedWeight> weights(LlamaModel model) {
        Map<String, QuantizedWeight> all = new LinkedHashMap<>();
        for (int l = 0; l < model.config().numHiddenLayers(); l++) {
            for (HfNames.Proj p : HfNames.Proj.values()) {
                QuantizedWeight q = model.layer(l).projection(p).quantized();
                if (q != null) {
                    all.put(HfNames.weight(l, p), q);
                }
            }
        }
        return Collections.unmodifiableMap(all);
    }

    /**
     * The full state dict in transformers' order, quantized projections dequantized to the model's
     * dtype as new arrays on {@code out}; the others are the model's own arrays (not copies).
     */
    public static Map<String, NDArray> fullPrecisionParameters(LlamaModel model, NDManager out) {
        Map<String, QuantizedWeight> quantized = weights(model);
        Map<String, NDArray> all = new LinkedHashMap<>();
        for (String name : HfNames.expectedTensors(model.config()).keySet()) {
            NDArray a = model.parameters().get(name);
            if (a == null && quantized.containsKey(name)) {
                a = quantized.get(name).dequantize(out);
                a.setName(name);
            }
            if (a != null) {
                all.put(name, a);
            }
        }
        return all;
    }
}
