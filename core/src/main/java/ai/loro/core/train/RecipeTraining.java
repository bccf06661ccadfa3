package ai.loro.core.train;

import ai.djl.Device;
import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.loro.core.LoroException;
import ai.loro.core.model.LlamaModel;
import ai.loro.core.quant.Quantization;
import ai.loro.core.recipe.Recipe;
import java.io.IOException;
import java.io.PrintStream;
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

    /**
     * The recipe's {@code device}: cpu; gpu (the first GPU; an error when DJL's engine sees none); auto
     * (the first GPU when there is one, else the CPU).
     */
    public static Device device(Recipe r) {
        return device(r.device(), "device");
    }

    /** The values {@link #device(String, String)} knows, as the recipe's {@code device} allows them. */
    public static final String DEVICES = "cpu|gpu|auto";

    /** {@link #device(Recipe)} for a {@code cpu | gpu | auto} value read from {@code key}. */
    public static Device device(String value, String key) {
        int gpus = value.equals("cpu") ? 0 : Engine.getInstance().getGpuCount();
        return switch (value) {
            case "cpu" -> Device.cpu();
            case "auto" -> gpus > 0 ? Device.gpu() : Device.cpu();
            case "gpu" -> {
                if (gpus == 0) {
                    throw new LoroException(key + ": gpu, but DJL's PyTorch engine (libtorch "
                            + Engine.getInstance().getVersion() + ") sees no GPU: this build bundles the CPU libtorch; "
                            + "build with -Pcuda on an NVIDIA machine (README, \"GPU\"), or use device: auto | cpu");
                }
                yield Device.gpu();
            }
            default -> throw new LoroException(key + ": '" + value + "' is not one of cpu, gpu, auto");
        };
    }

    /** The dtype models are loaded in: FLOAT16 with {@code fp16: true} (mixed precision), else FLOAT32. */
    public static ai.djl.ndarray.types.DataType computeDtype(Recipe r) {
        return r.fp16() ? ai.djl.ndarray.types.DataType.FLOAT16 : ai.djl.ndarray.types.DataType.FLOAT32;
    }

    /**
     * The recipe's model settings on a freshly loaded model, before any adapter attaches: {@code quantize}
     * (the frozen base's projections) and {@code gradient_checkpointing}.
     */
    public static void prepareModel(LlamaModel model, Recipe r, PrintStream log) {
        Quantization.apply(model, r, log);
        model.setGradientCheckpointing(r.gradientCheckpointing());
        if (r.fp16()) {
            log.println("fp16: models in fp16, fp32 master weights for the trainable parameters, dynamic loss scaling");
            if (!model.manager().getDevice().isGpu()) {
                log.println("note: fp16 on the CPU is much slower than fp32 (about 10x on the reference machine); it is meant for GPUs");
            }
        }
        if (r.gradientCheckpointing()) {
            log.println("gradient checkpointing: each decoder layer is re-run in the backward pass");
        }
    }

    /**
     * A freshly loaded {@code model} with {@link #prepareModel} applied, for a try-with-resources
     * header: the model is closed again when preparing it fails.
     */
    public static LlamaModel prepared(LlamaModel model, Recipe r, PrintStream log) {
        try {
            prepareModel(model, r, log);
            return model;
        } catch (RuntimeException e) {
            model.close();
            throw e;
        }
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
        return new Schedule(r.lrScheduler(), r.learningRate(), warmup, steps);
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

    /**
     * The shared loop as every stage runs it: the recipe's settings and schedule, an AdamW over
     * {@code trainable} (closed afterwards), the data position saved with each checkpoint, and the
     * train/eval mode switched by the frame itself: {@code mode}'s step set at each step's first
     * micro-batch ({@link MicroBatchLoss#stepping}) and training off during every evaluation
     * ({@link EvalLoss#inEvalMode}).
     *
     * @param mode the adapter, or null when nothing switches (full fine-tuning)
     * @param eval null when there is no validation set (the loop then never evaluates)
     */
    public static TrainLoop.Result train(Recipe r, int steps, Map<String, NDArray> trainable, TrainMode mode,
                                         DataCursor data, MicroBatchLoss loss, EvalLoss eval) {
        try (AdamW optimizer = optimizer(r, trainable)) {
            TrainLoop loop = new TrainLoop(config(r, steps, eval != null), trainable, optimizer, schedule(r, steps),
                    MicroBatchLoss.stepping(mode, loss)).data(data);
            if (eval != null) {
                loop.eval(EvalLoss.inEvalMode(mode, eval));
            }
            return loop.run();
        }
    }
}
