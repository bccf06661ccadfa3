package ai.loro.core.train;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.training.GradientCollector;
import ai.loro.core.LoroException;
import ai.loro.core.model.ActivationCheckpoints;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.nio.file.Path;
import java.util.Map;

/**
 * One optimizer update over a fixed set of trainable parameters, shared by {@link TrainLoop} and
 * the RL stages (PPO's mini-batches), so the rules below live in one place:
 * <ol>
 *   <li>{@link #pass()}: a forward + backward pass under autograd. Its {@link Pass#backward} scales
 *       the loss by the fp16 {@link LossScaler} (when there is one), back-propagates, and completes
 *       the decoder layers' half of a gradient-checkpointed forward pass
 *       ({@link ActivationCheckpoints#backward()}); closing it drops segments a failed pass left
 *       behind ({@link ActivationCheckpoints#discard()}). Gradients of several passes accumulate.
 *   <li>{@link #clip}: treat the accumulated gradients as {@code preScale · grads}, unscale fp16
 *       gradients in fp32, measure the global norm and clip it to {@code maxGradNorm}.
 *   <li>{@link #apply}: stop on a non-finite loss or norm (gradients zeroed, a
 *       {@link LoroException} with the caller's message) — except with fp16, where a finite loss
 *       with a non-finite norm is an overflow: the update is skipped and the scale backs off, as
 *       torch's GradScaler does; otherwise one AdamW step, which zeroes the gradients.
 * </ol>
 */
public final class OptimizerStep {
    /** Why a step stops: the message of the {@link LoroException}, from the step's loss and gradient norm. */
    @FunctionalInterface
    public interface NonFinite {
        String message(double loss, double gradNorm);
    }

    /**
     * What an update did.
     *
     * @param gradNorm the global norm before clipping (not finite when fp16 gradients overflowed)
     * @param skipped whether the update was skipped (fp16 overflow)
     * @param lossScale the scale the step's loss was multiplied by (1 without fp16), before its update
     */
    public record Outcome(double gradNorm, boolean skipped, double lossScale) {}

    private final AdamW optimizer;
    private final LossScaler scaler; // null unless a trainable parameter is fp16
    private final double maxGradNorm;

    /** @param scaler the fp16 loss scaler ({@link LossScaler#forOptimizer}), or null for fp32/bf16 parameters */
    public OptimizerStep(AdamW optimizer, LossScaler scaler, double maxGradNorm) {
        this.optimizer = optimizer;
        this.scaler = scaler;
        this.maxGradNorm = maxGradNorm;
    }

    public AdamW optimizer() {
        return optimizer;
    }

    /** The fp16 loss scaler, or null. */
    public LossScaler scaler() {
        return scaler;
    }

    /** Opens a forward + backward pass: do the forward inside it, then {@link Pass#backward} the loss. */
    public Pass pass() {
        return new Pass();
    }

    /** A GradientCollector with the loss-scaling and activation-checkpointing halves of a backward pass. */
    public final class Pass implements AutoCloseable {
        private final GradientCollector collector = Engine.getInstance().newGradientCollector();

        private Pass() {}

        /** Back-propagates {@code loss} (a scalar; {@code loss · scale} with fp16) into the parameters' gradients. */
        public void backward(NDArray loss) {
            collector.backward(scaler == null ? loss : scaler.scaleLoss(loss));
            ActivationCheckpoints.backward(); // the layers' half of a checkpointed model's backward pass
        }

        @Override
        public void close() {
            try {
                collector.close();
            } finally {
                ActivationCheckpoints.discard(); // a forward pass that never reached backward
            }
        }
    }

    /**
     * Scales the accumulated gradients by {@code preScale} (fp16: also divides by the loss scale, in
     * fp32) and clips their global norm to {@code maxGradNorm} ({@link GradClip#clipGradients}).
     *
     * @return the norm of {@code preScale · grads} before clipping; not finite when they overflowed
     */
    public double clip(double preScale) {
        return scaler == null ? GradClip.clipGradients(optimizer.gradients().defined(), maxGradNorm, preScale)
                : scaler.unscaleAndClip(optimizer.gradients(), maxGradNorm, preScale);
    }

    /**
     * After {@link #clip}: the non-finite stop, the fp16 overflow skip (and loss-scale update), or an
     * AdamW step with learning rate {@code lr}. Gradients are zero afterwards in every case.
     */
    public Outcome apply(double loss, double gradNorm, double lr, NonFinite stop) {
        double scaleUsed = scaler == null ? 1.0 : scaler.scale();
        boolean overflow = scaler != null && Double.isFinite(loss) && !Double.isFinite(gradNorm);
        if (!overflow && (!Double.isFinite(loss) || !Double.isFinite(gradNorm))) {
            optimizer.gradients().zero();
            throw new LoroException(stop.message(loss, gradNorm));
        }
        if (scaler == null || scaler.update(overflow)) {
            optimizer.step(lr);
        } else { // fp16 gradients overflowed at this scale: skip the update, as torch's GradScaler does
            optimizer.gradients().zero();
        }
        return new Outcome(gradNorm, overflow, scaleUsed);
    }

    /** {@link #clip} then {@link #apply}: one update from the gradients of mean losses ({@code preScale} 1). */
    public Outcome step(double loss, double lr, NonFinite stop) {
        return apply(loss, clip(1.0), lr, stop);
    }

    /** Restores the parameters, the AdamW moments and step count, and the loss scale from checkpoint {@code dir}. */
    public void restore(Path dir, ObjectNode state, Map<String, NDArray> trainable) {
        Checkpoints.restore(dir, trainable, optimizer, state.path("optimizer").path("step").asLong(state.path("step").asInt()));
        if (scaler != null) {
            scaler.restore(state);
        }
    }
}
