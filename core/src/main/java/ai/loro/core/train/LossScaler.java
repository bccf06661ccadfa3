package ai.loro.core.train;

import ai.djl.ndarray.NDArray;
import ai.loro.core.loss.LossOps;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

/**
 * Dynamic loss scaling for fp16 training (Micikevicius et al. 2018, "Mixed Precision Training";
 * the algorithm of {@code torch.amp.GradScaler}): the loss is multiplied by {@code scale} before the
 * backward pass so that small gradients survive in fp16; the gradients are divided by it again in
 * fp32. A step whose gradients overflowed (inf or NaN) is skipped and the scale multiplied by
 * {@code backoffFactor}; after {@code growthInterval} consecutive good steps it is multiplied by
 * {@code growthFactor}.
 */
public final class LossScaler {
    /** torch.amp.GradScaler's defaults: init_scale 2^16, growth 2, backoff 0.5, growth_interval 2000. */
    public static final double INIT_SCALE = 65536.0;
    public static final double GROWTH_FACTOR = 2.0;
    public static final double BACKOFF_FACTOR = 0.5;
    public static final int GROWTH_INTERVAL = 2000;

    private final double growthFactor;
    private final double backoffFactor;
    private final int growthInterval;
    private double scale;
    private int growthTracker; // consecutive steps without overflow since the last change
    private boolean calibrated;

    public LossScaler(double initScale, double growthFactor, double backoffFactor, int growthInterval) {
        if (!(initScale > 0) || !(growthFactor > 1) || !(backoffFactor > 0 && backoffFactor < 1) || growthInterval < 1) {
            throw new IllegalArgumentException("loss scaler needs scale > 0, growth > 1, backoff in (0, 1), interval >= 1");
        }
        this.scale = initScale;
        this.growthFactor = growthFactor;
        this.backoffFactor = backoffFactor;
        this.growthInterval = growthInterval;
    }

    public static LossScaler defaults() {
        return new LossScaler(INIT_SCALE, GROWTH_FACTOR, BACKOFF_FACTOR, GROWTH_INTERVAL);
    }

    /** A default scaler when the optimizer trains fp16 parameters (mixed precision), else null. */
    public static LossScaler forOptimizer(AdamW optimizer) {
        return optimizer.gradients().anyHalf() ? defaults() : null;
    }

    /** The loss to back-propagate: {@code loss · scale}, in fp32. */
    public NDArray scaleLoss(NDArray loss) {
        return LossOps.times(LossOps.widen(loss), scale);
    }

    /**
     * After the backward passes of an update: copies the fp16 gradients to fp32 and divides them by
     * the scale there (never in fp16, where small ones would underflow), together with
     * {@code preScale} and norm clipping ({@link GradClip#clipGradients}).
     *
     * @return the global norm of the unscaled gradients; not finite when they overflowed
     */
    public double unscaleAndClip(Gradients gradients, double maxNorm, double preScale) {
        gradients.widen();
        return GradClip.clipGradients(gradients.defined(), maxNorm, preScale / scale);
    }

    /** Writes {@code loss_scale} and {@code loss_scale_growth_tracker} into a checkpoint's state. */
    public void save(ObjectNode state) {
        state.put("loss_scale", scale);
        state.put("loss_scale_growth_tracker", growthTracker);
    }

    /** Continues from a checkpoint's state written by {@link #save}; a state without one leaves the scaler as it is. */
    public void restore(JsonNode state) {
        if (state.has("loss_scale")) {
            restore(state.get("loss_scale").asDouble(), state.path("loss_scale_growth_tracker").asInt());
        }
    }

    /**
     * Loro back-propagates the loss summed over a step's tokens (and divides by the count later);
     * torch scales the mean. Once, before the first backward pass of a fresh run, this divides the
     * scale by the step's token count rounded to a power of two, so that the per-token gradient scale
     * starts where torch's does instead of overflowing for log2(tokens) steps. No-op afterwards or
     * after {@link #restore}.
     */
    public void calibrate(long tokensPerStep) {
        if (calibrated) {
            return;
        }
        calibrated = true;
        long p = Long.highestOneBit(Math.max(1, tokensPerStep));
        scale = Math.max(1.0, scale / p);
    }

    /** The factor the loss is multiplied by for the next backward pass. */
    public double scale() {
        return scale;
    }

    public int growthTracker() {
        return growthTracker;
    }

    /**
     * After a step's gradients were checked: returns whether the optimizer may step (no overflow),
     * and updates the scale for the next step.
     */
    public boolean update(boolean foundInfOrNan) {
        if (foundInfOrNan) {
            scale *= backoffFactor;
            growthTracker = 0;
            return false;
        }
        growthTracker++;
        if (growthTracker == growthInterval) {
            scale *= growthFactor;
            growthTracker = 0;
        }
        return true;
    }

    /** Restores the state a checkpoint saved. */
    public void restore(double scale, int growthTracker) {
        if (!(scale > 0) || growthTracker < 0) {
            throw new IllegalArgumentException("bad loss scaler state: scale " + scale + ", tracker " + growthTracker);
        }
        this.scale = scale;
        this.growthTracker = growthTracker;
        this.calibrated = true;
    }
}
