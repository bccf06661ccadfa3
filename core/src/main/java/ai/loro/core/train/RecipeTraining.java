package ai.loro.core.train;

import ai.djl.ndarray.NDArray;
import ai.loro.core.LoroException;
import ai.loro.core.recipe.Recipe;
import java.io.IOException;
import java.nio.file.Files;
import java.util.Map;

/** The loop settings every stage reads from its recipe, in one place. */
public final class RecipeTraining {
    private RecipeTraining() {}

    /**
     * Creates output_dir and writes the resolved recipe.yaml into it; with {@code deterministic: true}
     * switches libtorch to one intra-op thread for the rest of the process.
     */
    public static void prepareOutput(Recipe r) {
        if (r.deterministic()) {
            ai.djl.engine.Engine.getInstance(); // loads libtorch before the native call
            ai.djl.pytorch.jni.JniUtils.setNumThreads(1);
        }
        try {
            Files.createDirectories(r.outputDir());
        } catch (IOException e) {
            throw new LoroException(r.outputDir() + ": cannot create output_dir: " + e.getMessage());
        }
        r.writeResolved();
    }

    /** {@code max_steps} when set, else {@code ceil(num_epochs × optimizer steps per epoch)}. */
    public static int totalSteps(Recipe r, int batchesPerEpoch) {
        if (r.maxSteps().isPresent()) {
            return r.maxSteps().getAsInt();
        }
        int perEpoch = Math.max(1, (batchesPerEpoch + r.gradientAccumulationSteps() - 1) / r.gradientAccumulationSteps());
        return (int) Math.ceil(r.numEpochs() * perEpoch);
    }

    /** AdamW with the recipe's betas, epsilon and weight decay (none on biases and norms, as HF Trainer). */
    public static AdamW optimizer(Recipe r, Map<String, NDArray> trainable) {
        return new AdamW(trainable, new AdamW.Options(r.adamBeta1(), r.adamBeta2(), r.adamEpsilon(), r.weightDecay(),
                AdamW::hfDecays));
    }

    public static Schedule schedule(Recipe r, int steps) {
        int warmup = r.warmupRatio().isPresent() ? Schedule.warmupSteps(r.warmupRatio().getAsDouble(), steps) : r.warmupSteps();
        return new Schedule(Schedule.Kind.parse(r.lrScheduler().yamlName()), r.learningRate(), warmup, steps);
    }

    /** The loop's settings; always resumes from the newest complete checkpoint in output_dir. */
    public static TrainConfig config(Recipe r, int steps, boolean hasValidation) {
        return TrainConfig.builder(r.outputDir(), steps)
                .gradientAccumulationSteps(r.gradientAccumulationSteps())
                .maxGradNorm(r.maxGradNorm())
                .seed(r.seed())
                .loggingSteps(r.loggingSteps())
                .evalSteps(hasValidation ? r.evalSteps().orElse(0) : 0)
                .saveSteps(r.saveSteps().orElse(Math.max(1, steps / 4)))
                .saveTotalLimit(r.saveTotalLimit().orElse(0))
                .resume(true)
                .progressBar(r.progressBar())
                .build();
    }
}
