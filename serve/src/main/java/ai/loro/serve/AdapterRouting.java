package ai.loro.serve;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.core.Linear;
import ai.loro.core.model.HfNames;
import ai.loro.core.model.LlamaModel;
import ai.loro.core.model.Projection;
import ai.loro.lora.LoraAdapter;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Per-row LoRA selection for one forward pass (S-LoRA / Punica style): every projection's output is
 * {@code x Wᵀ + Σ_a rowmask_a · scale_a · B_a(A_a(x))}, where {@code rowmask_a} (B, 1, 1) is 1 on the rows that
 * asked for adapter {@code a} and 0 elsewhere. The base matmul is shared by all rows. When every row uses one
 * adapter no mask is made and the delta is exactly LoRA's {@code scale · B(A(x))}; when no row uses an adapter
 * the model's adapters are switched off, so base rows compute exactly the base model.
 *
 * <p>Used by one thread (the scheduler's); {@link #select} before each forward pass, {@link #install} whenever the
 * set of loaded adapters changes.
 */
final class AdapterRouting {
    private final LlamaModel model;
    /** The adapters of this forward pass, each with its row mask (null = all rows). */
    private final List<LoraAdapter> active = new ArrayList<>();
    private final List<NDArray> masks = new ArrayList<>();

    AdapterRouting(LlamaModel model) {
        this.model = model;
    }

    /** Puts a routed delta on every projection some adapter in {@code loaded} targets, none elsewhere. */
    void install(Iterable<LoraAdapter> loaded) {
        Set<String> targeted = new LinkedHashSet<>();
        for (LoraAdapter a : loaded) {
            targeted.addAll(a.modules().keySet());
        }
        for (int l = 0; l < model.config().numHiddenLayers(); l++) {
            for (HfNames.Proj p : HfNames.Proj.values()) {
                Projection proj = model.layer(l).projection(p);
                String name = HfNames.module(l, p);
                proj.setDelta(targeted.contains(name) ? new RoutedDelta(name, (int) proj.weightShape().get(0)) : null);
            }
        }
    }

    /**
     * Sets the adapters of the next forward pass: row b uses {@code rowAdapters[b]} (null = the base).
     * Rows whose entry is null in every position compute the base model. Masks are made in {@code step}.
     */
    void select(LoraAdapter[] rowAdapters, NDManager step) {
        active.clear();
        masks.clear();
        Map<LoraAdapter, float[]> rows = new HashMap<>();
        int b = rowAdapters.length;
        for (int r = 0; r < b; r++) {
            if (rowAdapters[r] != null) {
                rows.computeIfAbsent(rowAdapters[r], k -> new float[b])[r] = 1f;
            }
        }
        for (Map.Entry<LoraAdapter, float[]> e : rows.entrySet()) {
            active.add(e.getKey());
            boolean all = true;
            for (float f : e.getValue()) {
                all &= f == 1f;
            }
            masks.add(all ? null : step.create(e.getValue(), new Shape(b, 1, 1)).toType(model.dtype(), false));
        }
        model.setAdaptersEnabled(!active.isEmpty());
    }

    /** Which distinct adapters the last {@link #select} used. */
    int activeCount() {
        return active.size();
    }

    private final class RoutedDelta implements Projection.Delta {
        private final String module;
        private final int outFeatures;

        RoutedDelta(String module, int outFeatures) {
            this.module = module;
            this.outFeatures = outFeatures;
        }

        @Override
        public NDArray apply(NDArray x) { // (B, T, in) → (B, T, out)
            NDArray sum = null;
            for (int i = 0; i < active.size(); i++) {
                LoraAdapter.Module m = active.get(i).modules().get(module);
                if (m == null) {
                    continue;
                }
                NDArray down = Linear.linear(x, m.a()).singletonOrThrow(); // (B, T, r)
                NDArray up = Linear.linear(down, m.b()).singletonOrThrow(); // (B, T, out)
                NDArray d = up.mul(scale(active.get(i), m, x.getManager())); // as LoraAdapter: scale · B(A(x))
                if (masks.get(i) != null) {
                    d = d.mul(masks.get(i)); // (B, 1, 1): 1 keeps the row's value exactly, 0 gives 0
                }
                sum = sum == null ? d : sum.add(d);
            }
            if (sum == null) { // no adapter of this pass adapts this projection
                long[] s = x.getShape().getShape();
                sum = x.getManager().zeros(new Shape(s[0], s[1], outFeatures), x.getDataType());
            }
            return sum;
        }

        @Override
        public boolean trainable() {
            return false;
        }
    }

    private final Map<LoraAdapter.Module, NDArray> scales = new HashMap<>();

    /** A 0-d scale array per module, kept for the adapter's life (made in its manager). */
    private NDArray scale(LoraAdapter adapter, LoraAdapter.Module m, NDManager unused) {
        return scales.computeIfAbsent(m, k -> {
            NDArray s = adapter.manager().create((float) k.scale());
            if (s.getDataType() != model.dtype()) {
                s = s.toType(model.dtype(), false);
                s.attach(adapter.manager());
            }
            ai.djl.ndarray.NDScope.unregister(s); // outlives the step that made it
            return s;
        });
    }

    /** Forgets the cached scales of an adapter about to be closed. */
    void forget(LoraAdapter adapter) {
        scales.keySet().removeAll(adapter.modules().values());
    }
}
