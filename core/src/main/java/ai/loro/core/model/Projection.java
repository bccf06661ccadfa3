package ai.loro.core.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.core.Linear;
import ai.loro.core.quant.QuantizedWeight;
import java.util.function.Function;

/**
 * One linear projection of a decoder layer: {@code y = x Wᵀ + b}, plus an optional low-rank delta
 * (a LoRA adapter) that can be switched off for a forward pass. The weight may be held quantized
 * ({@link #quantize}): the forward pass then rebuilds it in the input's (the step's) manager.
 */
public final class Projection {
    /** An additive delta on a projection's output, e.g. LoRA's {@code scale · B(A(dropout(x)))}. */
    public interface Delta {
        NDArray apply(NDArray x); // (B, T, in) → (B, T, out)

        /**
         * What the next {@link #apply} draws its randomness (dropout masks) from; activation
         * checkpointing saves it before a layer's forward pass and restores it before re-running
         * that layer, so the recomputation draws the same masks. Null when the delta draws nothing.
         */
        default Object randomState() {
            return null;
        }

        /** Restores a state from {@link #randomState()}. */
        default void restoreRandomState(Object state) {}

        /** Whether any of its parameters receives gradients. */
        default boolean trainable() {
            return true;
        }
    }

    private final String name;
    private NDArray weight; // (out, in); null once quantized
    private QuantizedWeight quantized;
    private final Shape shape;
    private final NDArray bias; // (out) or null
    private Delta delta;

    public Projection(String name, NDArray weight, NDArray bias) {
        this.name = name;
        this.weight = weight;
        this.bias = bias;
        this.shape = weight.getShape();
    }

    public NDArray apply(NDArray x, boolean withDelta) { // x (B, T, in)
        NDArray w = quantized == null ? weight : quantized.dequantize(x.getManager()); // dies with x's (the step's) manager
        NDArray y = bias == null ? Linear.linear(x, w).singletonOrThrow() : Linear.linear(x, w, bias).singletonOrThrow();
        return withDelta && delta != null ? y.add(delta.apply(x)) : y;
    }

    /** The module path, e.g. {@code model.layers.0.self_attn.q_proj}. */
    public String name() {
        return name;
    }

    /** The full-precision weight (out, in); null when the projection is quantized. */
    public NDArray weight() {
        return weight;
    }

    /** The weight's shape (out, in), quantized or not. */
    public Shape weightShape() {
        return shape;
    }

    /** The quantized weight, or null. */
    public QuantizedWeight quantized() {
        return quantized;
    }

    /**
     * Replaces the full-precision weight by {@code quantizer.apply(weight)} and closes (frees) the
     * full-precision array. The bias stays full precision.
     */
    public QuantizedWeight quantize(Function<NDArray, QuantizedWeight> quantizer) {
        if (quantized != null) {
            throw new IllegalStateException(name + " is already quantized (" + quantized.mode() + ")");
        }
        quantized = quantizer.apply(weight);
        weight.close();
        weight = null;
        return quantized;
    }

    public NDArray bias() {
        return bias;
    }

    /** Whether a backward pass through {@link #apply} reaches a parameter (weight, bias, or an active delta's). */
    public boolean trainable(boolean withDelta) {
        return weight != null && weight.hasGradient() || bias != null && bias.hasGradient()
                || withDelta && delta != null && delta.trainable();
    }

    public Delta delta() {
        return delta;
    }

    public void setDelta(Delta delta) {
        this.delta = delta;
    }
}
