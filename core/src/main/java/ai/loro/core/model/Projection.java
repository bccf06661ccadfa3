package ai.loro.core.model;

import ai.djl.ndarray.NDArray;
import ai.djl.nn.core.Linear;

/**
 * One linear projection of a decoder layer: {@code y = x Wᵀ + b}, plus an optional low-rank delta
 * (a LoRA adapter) that can be switched off for a forward pass.
 */
public final class Projection {
    /** An additive delta on a projection's output, e.g. LoRA's {@code scale · B(A(dropout(x)))}. */
    public interface Delta {
        NDArray apply(NDArray x); // (B, T, in) → (B, T, out)
    }

    private final String name;
    private final NDArray weight; // (out, in)
    private final NDArray bias; // (out) or null
    private Delta delta;

    public Projection(String name, NDArray weight, NDArray bias) {
        this.name = name;
        this.weight = weight;
        this.bias = bias;
    }

    public NDArray apply(NDArray x, boolean withDelta) { // x (B, T, in)
        NDArray y = bias == null ? Linear.linear(x, weight).singletonOrThrow() : Linear.linear(x, weight, bias).singletonOrThrow();
        return withDelta && delta != null ? y.add(delta.apply(x)) : y;
    }

    /** The module path, e.g. {@code model.layers.0.self_attn.q_proj}. */
    public String name() {
        return name;
    }

    public NDArray weight() {
        return weight;
    }

    public NDArray bias() {
        return bias;
    }

    public Delta delta() {
        return delta;
    }

    public void setDelta(Delta delta) {
        this.delta = delta;
    }
}
