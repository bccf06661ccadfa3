package ai.loro.core.train;

import java.util.function.Supplier;

/**
 * What behaves differently in training and in evaluation: LoRA dropout (the Llama forward pass has
 * no dropout of its own). The shared frame switches it, not the stages: {@link EvalLoss#inEvalMode}
 * around every evaluation and {@link MicroBatchLoss#stepping} at each optimizer step, both wired by
 * {@link RecipeTraining#train}, so a stage cannot forget one (the classifier's evaluation once ran
 * with dropout on).
 */
public interface TrainMode {
    /** Random layers (dropout) on while training, off for evaluation and generation. */
    void setTraining(boolean training);

    boolean isTraining();

    /** Starts optimizer step {@code step}: random masks from now on are functions of it, so a resumed run replays them. */
    void setStep(long step);

    /**
     * {@code body} with training off; the previous mode is restored afterwards, also when it throws.
     *
     * @param mode null when there is nothing to switch (full fine-tuning)
     */
    static <T> T evaluating(TrainMode mode, Supplier<T> body) {
        if (mode == null) {
            return body.get();
        }
        boolean previous = mode.isTraining();
        mode.setTraining(false);
        try {
            return body.get();
        } finally {
            mode.setTraining(previous);
        }
    }
}
