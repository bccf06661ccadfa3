package ai.loro.core.train;

import ai.loro.core.LoroException;
import java.nio.file.Path;

/**
 * The loop's settings (transformers' TrainingArguments names in the comments).
 *
 * @param outputDir holds {@code metrics.jsonl} and {@code checkpoints/}
 * @param maxSteps optimizer steps in all ({@code max_steps})
 * @param gradientAccumulationSteps micro-batches per optimizer step
 * @param maxGradNorm global-norm clipping bound; {@code <= 0} disables clipping ({@code max_grad_norm})
 * @param seed base of every per-step seed
 * @param loggingSteps write a train line every this many steps (and at the last step)
 * @param evalSteps evaluate every this many steps; 0 never
 * @param saveSteps checkpoint every this many steps and at the last step; 0 never
 * @param saveTotalLimit keep at most this many checkpoints, newest first; 0 keeps all
 * @param resume continue from the newest complete checkpoint in {@code outputDir}, if any
 * @param progressBar draw a progress bar on stderr (only when a console is attached)
 */
public record TrainConfig(Path outputDir, int maxSteps, int gradientAccumulationSteps, double maxGradNorm, long seed,
                          int loggingSteps, int evalSteps, int saveSteps, int saveTotalLimit, boolean resume,
                          boolean progressBar) {
    public TrainConfig {
        if (outputDir == null) {
            throw new LoroException("output_dir is required");
        }
        if (maxSteps < 0) {
            throw new LoroException("max_steps must be >= 0, got " + maxSteps);
        }
        if (gradientAccumulationSteps < 1) {
            throw new LoroException("gradient_accumulation_steps must be >= 1, got " + gradientAccumulationSteps);
        }
        if (loggingSteps < 1) {
            throw new LoroException("logging_steps must be >= 1, got " + loggingSteps);
        }
        if (evalSteps < 0 || saveSteps < 0 || saveTotalLimit < 0) {
            throw new LoroException("eval_steps, save_steps and save_total_limit must be >= 0");
        }
        if (Double.isNaN(maxGradNorm)) {
            throw new LoroException("max_grad_norm must be a number");
        }
    }

    /** Defaults: no accumulation, clip at 1.0, seed 42, log every 10 steps, no eval, no checkpoints. */
    public static Builder builder(Path outputDir, int maxSteps) {
        return new Builder(outputDir, maxSteps);
    }

    public static final class Builder {
        private final Path outputDir;
        private final int maxSteps;
        private int gradientAccumulationSteps = 1;
        private double maxGradNorm = 1.0;
        private long seed = 42;
        private int loggingSteps = 10;
        private int evalSteps;
        private int saveSteps;
        private int saveTotalLimit;
        private boolean resume;
        private boolean progressBar = true;

        private Builder(Path outputDir, int maxSteps) {
            this.outputDir = outputDir;
            this.maxSteps = maxSteps;
        }

        public Builder gradientAccumulationSteps(int v) {
            gradientAccumulationSteps = v;
            return this;
        }

        public Builder maxGradNorm(double v) {
            maxGradNorm = v;
            return this;
        }

        public Builder seed(long v) {
            seed = v;
            return this;
        }

        public Builder loggingSteps(int v) {
            loggingSteps = v;
            return this;
        }

        public Builder evalSteps(int v) {
            evalSteps = v;
            return this;
        }

        public Builder saveSteps(int v) {
            saveSteps = v;
            return this;
        }

        public Builder saveTotalLimit(int v) {
            saveTotalLimit = v;
            return this;
        }

        public Builder resume(boolean v) {
            resume = v;
            return this;
        }

        public Builder progressBar(boolean v) {
            progressBar = v;
            return this;
        }

        public TrainConfig build() {
            return new TrainConfig(outputDir, maxSteps, gradientAccumulationSteps, maxGradNorm, seed, loggingSteps,
                    evalSteps, saveSteps, saveTotalLimit, resume, progressBar);
        }
    }
}
