package ai.loro.core.train;

import ai.loro.core.model.NoGrad;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import ai.djl.ndarray.types.DataType;
import ai.djl.pytorch.engine.PtNDArray;
import ai.djl.pytorch.jni.JniUtils;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The {@code .grad} tensors of a fixed set of trainable parameters.
 *
 * <p>DJL's {@code getGradient()} makes a new wrapper in the parameter's manager on every call, which
 * leaks one array per parameter per step (and throws once that manager is capped). Here each
 * gradient is fetched once, the first time it is defined (after the first backward pass), and the
 * wrapper is kept in this object's own manager. This is sound because libtorch accumulates into a
 * defined {@code .grad} in place and {@link #zero()} zeroes it in place, so the tensor never changes
 * identity. Nothing else may set a parameter's gradient to None.
 *
 * <p>For fp16 parameters (mixed precision) the optimizer works on fp32 gradients: {@link #widen()}
 * copies each fp16 {@code .grad} into an fp32 buffer, and {@link #get} returns that buffer.
 */
public final class Gradients implements AutoCloseable {
    private final List<String> names;
    private final List<NDArray> params;
    private final NDArray[] grads;
    private final NDArray[] wide; // fp32 copies of fp16 gradients; null for other parameters
    private final boolean[] half;
    private final NDManager manager;

    public Gradients(Map<String, NDArray> params) {
        if (params.isEmpty()) {
            throw new IllegalArgumentException("no trainable parameters");
        }
        this.names = List.copyOf(params.keySet());
        this.params = List.copyOf(params.values());
        this.grads = new NDArray[this.params.size()];
        this.wide = new NDArray[this.params.size()];
        this.half = new boolean[this.params.size()];
        for (int i = 0; i < half.length; i++) {
            half[i] = this.params.get(i).getDataType() == DataType.FLOAT16;
        }
        this.manager = NDManager.newBaseManager(this.params.get(0).getDevice());
        this.manager.setName("gradients");
    }

    public int size() {
        return params.size();
    }

    public String name(int i) {
        return names.get(i);
    }

    public NDArray param(int i) {
        return params.get(i);
    }

    /** Whether any parameter is fp16 (its gradients reach the optimizer through {@link #widen()}). */
    public boolean anyHalf() {
        for (boolean h : half) {
            if (h) {
                return true;
            }
        }
        return false;
    }

    /**
     * Copies every defined fp16 gradient into its fp32 buffer (inf and NaN included); call after the
     * backward passes of a step, before {@link #get} is read.
     */
    public void widen() {
        try (NoGrad ng = new NoGrad()) {
            for (int i = 0; i < half.length; i++) {
                if (half[i]) {
                    NDArray g = raw(i);
                    if (g != null) {
                        if (wide[i] == null) {
                            wide[i] = manager.zeros(g.getShape(), DataType.FLOAT32);
                            NDScope.unregister(wide[i]);
                        }
                        AdamW.copyInto(wide[i], g, names.get(i));
                    }
                }
            }
        }
    }

    /**
     * The gradient of parameter {@code i} (the fp32 copy for an fp16 parameter), or null while it
     * has none (never reached by a backward pass).
     */
    public NDArray get(int i) {
        if (half[i]) {
            return raw(i) == null ? null : wide[i];
        }
        return raw(i);
    }

    private NDArray raw(int i) {
        NDArray g = grads[i];
        if (g == null) {
            PtNDArray fresh = JniUtils.getGradient((PtNDArray) params.get(i));
            if (fresh == null) {
                return null;
            }
            fresh.attach(manager);
            NDScope.unregister(fresh);
            grads[i] = fresh;
            g = fresh;
        }
        return g;
    }

    /** All defined gradients, in parameter order. */
    public List<NDArray> defined() {
        List<NDArray> out = new ArrayList<>(params.size());
        for (int i = 0; i < params.size(); i++) {
            NDArray g = get(i);
            if (g != null) {
                out.add(g);
            }
        }
        return out;
    }

    /** Name → gradient for the defined ones (views of the live {@code .grad} tensors). */
    public Map<String, NDArray> asMap() {
        Map<String, NDArray> out = new LinkedHashMap<>();
        for (int i = 0; i < params.size(); i++) {
            NDArray g = get(i);
            if (g != null) {
                out.put(names.get(i), g);
            }
        }
        return Collections.unmodifiableMap(out);
    }

    /** Zeroes every defined gradient in place (fp32 copies are overwritten by the next {@link #widen()}). */
    public void zero() {
        for (NDArray p : params) {
            JniUtils.zeroGrad((PtNDArray) p);
        }
    }

    /** The manager holding the gradient wrappers (for leak checks in tests). */
    NDManager manager() {
        return manager;
    }

    @Override
    public void close() {
        manager.close();
    }
}
