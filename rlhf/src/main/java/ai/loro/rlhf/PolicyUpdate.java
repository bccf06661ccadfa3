package ai.loro.rlhf;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import ai.loro.core.loss.LossOps;
import ai.loro.core.train.OptimizerStep;
import ai.loro.datasets.Splits;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The update step of an RL stage: {@code epochs} passes over a {@link Trajectory}, each in
 * {@code miniBatches} shuffled mini-batches (the shuffle of epoch e is seeded by
 * {@code stepSeed · 7919 + e}); per mini-batch a forward pass with gradient, the {@link Objective}'s
 * loss, backward, and one {@link OptimizerStep} (clip, fp16 unscale/overflow skip, non-finite stop,
 * AdamW). The metrics are averaged over the updates (skipped ones included).
 */
public final class PolicyUpdate {
    /** A mini-batch's loss. */
    @FunctionalInterface
    public interface Objective {
        /**
         * The loss (a scalar mean over the mini-batch's tokens) of {@code rows} of {@code t}, with a
         * forward pass under autograd on {@code m}; puts its metrics into {@code metrics} in logging order.
         */
        NDArray loss(Trajectory t, int[] rows, NDManager m, Map<String, Double> metrics);
    }

    /** The metrics of a step's updates, each the mean over {@code updates}. */
    public record Stats(Map<String, Double> means, int updates) {}

    private final OptimizerStep optimizer;
    private final Objective objective;
    private final int epochs;
    private final int miniBatches;
    private final String prefix;

    /**
     * @param prefix the stage's metric prefix and name in messages ("ppo": {@code ppo/loss/total},
     *     {@code ppo/loss_scale}, {@code ppo/skipped_updates})
     */
    public PolicyUpdate(OptimizerStep optimizer, Objective objective, int epochs, int miniBatches, String prefix) {
        this.optimizer = optimizer;
        this.objective = objective;
        this.epochs = epochs;
        this.miniBatches = miniBatches;
        this.prefix = prefix;
    }

    /** Updates on {@code t} with learning rate {@code lr}; {@code step} (1-based) names the step in errors. */
    public Stats run(Trajectory t, int stepSeed, double lr, int step, NDManager base) {
        int b = t.rollout().batch();
        int size = b / miniBatches;
        Map<String, Double> sums = new LinkedHashMap<>();
        int updates = 0;
        List<Integer> order = new ArrayList<>();
        for (int i = 0; i < b; i++) {
            order.add(i);
        }
        for (int epoch = 0; epoch < epochs; epoch++) {
            List<Integer> perm = Splits.shuffle(order, stepSeed * 7919L + epoch);
            for (int mb = 0; mb < miniBatches; mb++) {
                int[] rows = perm.subList(mb * size, (mb + 1) * size).stream().mapToInt(Integer::intValue).toArray();
                Map<String, Double> mm = update(t, rows, lr, base, " at step " + step + " (epoch " + epoch + ", mini-batch " + mb + ")");
                mm.forEach((key, v) -> sums.merge(key, v, Double::sum));
                updates++;
            }
        }
        Map<String, Double> means = new LinkedHashMap<>();
        int n = updates;
        sums.forEach((key, v) -> means.put(key, v / n));
        return new Stats(means, n);
    }

    /** One mini-batch: forward, loss, backward, optimizer step; its metrics. */
    private Map<String, Double> update(Trajectory t, int[] rows, double lr, NDManager base, String where) {
        Map<String, Double> mm = new LinkedHashMap<>();
        try (NDManager sm = base.newSubManager(); NDScope ignored = new NDScope(); OptimizerStep.Pass pass = optimizer.pass()) {
            NDArray loss = objective.loss(t, rows, sm, mm);
            mm.put(prefix + "/loss/total", LossOps.scalar(loss));
            pass.backward(loss); // fp16: scaled up (the loss is a mean, as torch's GradScaler expects)
        }
        OptimizerStep.Outcome o = optimizer.step(mm.get(prefix + "/loss/total"), lr, (loss, norm) ->
                prefix.toUpperCase(java.util.Locale.ROOT) + " loss or gradient norm became non-finite" + where
                        + "; lower learning_rate or set max_grad_norm");
        if (optimizer.scaler() != null) {
            mm.put(prefix + "/loss_scale", o.lossScale());
            mm.put(prefix + "/skipped_updates", o.skipped() ? 1.0 : 0.0); // averaged: the fraction of updates skipped
        }
        if (!o.skipped()) {
            mm.put("grad_norm", o.gradNorm());
        }
        return mm;
    }
}
