package ai.loro.core.train;

import ai.loro.core.model.NoGrad;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import ai.djl.ndarray.types.DataType;
import ai.djl.pytorch.engine.PtNDArray;
import ai.djl.pytorch.jni.JniUtils;
import java.util.ArrayList;
import java.util.Collection;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;

/**
 * Global-norm gradient clipping as {@code torch.nn.utils.clip_grad_norm_} does it: the total norm is
 * the 2-norm of the per-tensor 2-norms; every gradient is multiplied by
 * {@code min(1, maxNorm / (total + 1e-6))}. (DJL's {@code clipGrad} is an element-wise clamp, not this.)
 */
public final class GradClip {
    private GradClip() {}

    /**
     * Clips the gradients of {@code params} (those without a gradient are skipped) in place.
     *
     * @param maxNorm the norm bound; {@code <= 0} only measures
     * @return the total norm before clipping
     */
    public static double clipGlobalNorm(Collection<NDArray> params, double maxNorm) {
        try (NDScope ignored = new NDScope()) {
            List<NDArray> grads = new ArrayList<>();
            for (NDArray p : params) {
                NDArray g = JniUtils.getGradient((PtNDArray) p);
                if (g != null) {
                    grads.add(g);
                }
            }
            return clipGradients(grads, maxNorm, 1.0);
        }
    }

    /**
     * Treats {@code grads} as {@code preScale · grads} (e.g. {@code 1 / tokens} to turn summed-loss
     * gradients into mean-loss ones), measures their global norm and scales them in place by
     * {@code preScale · min(1, maxNorm / (norm + 1e-6))} in a single pass.
     *
     * @param maxNorm the norm bound; {@code <= 0} disables clipping (the pre-scale still applies)
     * @return the total norm of {@code preScale · grads} before clipping (NaN or infinite if any gradient is)
     */
    public static double clipGradients(List<NDArray> grads, double maxNorm, double preScale) {
        if (grads.isEmpty()) {
            return 0.0;
        }
        try (NDScope ignored = new NDScope(); NoGrad ng = new NoGrad()) {
            NDList norms = new NDList(grads.size());
            for (NDArray g : grads) {
                norms.add(g.norm());
            }
            NDArray total = norms.size() == 1 ? norms.get(0) : NDArrays.stack(norms).norm();
            double norm = total.toType(DataType.FLOAT64, false).getDouble() * preScale;
            double scale = preScale;
            if (maxNorm > 0 && Double.isFinite(norm)) {
                scale *= Math.min(1.0, maxNorm / (norm + 1e-6));
            }
            if (scale != 1.0) {
                NDManager m = grads.get(0).getManager();
                double factor = scale;
                Map<DataType, NDArray> scalars = new EnumMap<>(DataType.class);
                for (NDArray g : grads) {
                    g.muli(scalars.computeIfAbsent(g.getDataType(), t -> m.create(factor).toType(t, false)));
                }
            }
            return norm;
        }
    }
}
