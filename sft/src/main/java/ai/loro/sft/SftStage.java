package ai.loro.sft;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.DataType;
import ai.loro.core.LoroException;
import ai.loro.core.model.LlamaModel;
import ai.loro.core.quant.Quantization;
import ai.loro.core.model.ModelWriter;
import ai.loro.core.recipe.Recipe;
import ai.loro.core.tokenizer.LoroTokenizer;
import ai.loro.core.train.AdamW;
import ai.loro.core.train.EpochCursor;
import ai.loro.core.train.EvalLoss;
import ai.loro.core.train.MicroBatchLoss;
import ai.loro.core.train.Schedule;
import ai.loro.core.train.TrainConfig;
import ai.loro.core.train.TrainLoop;
import ai.loro.datasets.Batch;
import ai.loro.lora.LoraAdapter;
import ai.loro.lora.LoraConfig;
import ai.loro.lora.Merge;
import ai.loro.lora.Peft;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Supervised instruction tuning: setup (data, model, adapter), train (the shared loop with a
 * next-token loss on assistant tokens), save (PEFT adapter, optionally merged; or the full model).
 * Re-running the same recipe resumes from the newest complete checkpoint in {@code output_dir}.
 */
public final class SftStage {
    private SftStage() {}

    /** Where the run's artifacts are. {@code adapter} or {@code model} is null depending on the adapter type. */
    public record Result(Path adapter, Path model, Path merged, TrainLoop.Result training) {}

    public static Result run(Recipe r, PrintStream log) {
        Path out = r.outputDir();
        try {
            Files.createDirectories(out);
        } catch (IOException e) {
            throw new LoroException(out + ": cannot create output_dir: " + e.getMessage());
        }
        r.writeResolved();
        // ---- setup
        LoroTokenizer tokenizer = LoroTokenizer.load(r.baseModel());
        SftData data = SftData.load(r, tokenizer, log);
        LlamaModel model = LlamaModel.load(r.baseModel(), DataType.FLOAT32, Device.cpu());
        Quantization.apply(model, r, log); // quantize: int8|nf4 freezes the base quantized (before the adapter attaches)
        boolean lora = r.adapter().type() == Recipe.AdapterType.LORA;
        LoraAdapter adapter = null;
        Map<String, NDArray> trainable;
        if (lora) {
            Recipe.Adapter a = r.adapter();
            LoraConfig lc = LoraConfig.of(a.r(), a.alpha(), a.dropout(), a.targetModules().toArray(String[]::new))
                    .withRslora(a.useRslora());
            Peft.warnings(lc).forEach(w -> log.println("warning: " + w));
            adapter = LoraAdapter.create(model, lc, r.seed());
            adapter.attach(model);
            adapter.setTraining(true);
            trainable = adapter.parameters();
        } else {
            trainable = new LinkedHashMap<>(model.parameters());
            trainable.values().forEach(p -> p.setRequiresGradient(true));
        }
        int steps = totalSteps(r, data.batchesPerEpoch());
        AdamW optimizer = new AdamW(trainable, new AdamW.Options(r.adamBeta1(), r.adamBeta2(), r.adamEpsilon(),
                r.weightDecay(), AdamW::hfDecays));
        int warmup = r.warmupRatio().isPresent() ? Schedule.warmupSteps(r.warmupRatio().getAsDouble(), steps) : r.warmupSteps();
        Schedule schedule = new Schedule(Schedule.Kind.parse(r.lrScheduler().yamlName()), r.learningRate(), warmup, steps);
        TrainConfig config = TrainConfig.builder(out, steps)
                .gradientAccumulationSteps(r.gradientAccumulationSteps())
                .maxGradNorm(r.maxGradNorm())
                .seed(r.seed())
                .loggingSteps(r.loggingSteps())
                .evalSteps(data.validation.isEmpty() ? 0 : r.evalSteps().orElse(0))
                .saveSteps(r.saveSteps().orElse(Math.max(1, steps / 4)))
                .saveTotalLimit(r.saveTotalLimit().orElse(0))
                .resume(true)
                .progressBar(r.progressBar())
                .build();
        log.printf("model %s: %,d parameters, %,d trainable (%s); %d steps of %d x %d sequences%n",
                r.baseModel().getFileName(), model.config().parameterCount(),
                trainable.values().stream().mapToLong(p -> p.getShape().size()).sum(),
                lora ? "LoRA r=" + r.adapter().r() : "full fine-tuning", steps, r.gradientAccumulationSteps(), r.microBatchSize());
        // ---- train
        EpochCursor<Batch> cursor = new EpochCursor<>(data::epoch, data.batchesPerEpoch());
        LoraAdapter dropoutSteps = adapter;
        MicroBatchLoss loss = (m, step, micro) -> {
            if (micro == 0 && dropoutSteps != null) {
                dropoutSteps.setStep(step); // dropout masks are a function of (seed, step): resume replays them
            }
            NDArray[] nll = SftLoss.nllSum(model, cursor.next(), m);
            return new MicroBatchLoss.Result(nll[0], SftLoss.count(nll[1]));
        };
        EvalLoss eval = (m, step) -> {
            if (dropoutSteps != null) {
                dropoutSteps.setTraining(false);
            }
            double sum = 0;
            long tokens = 0;
            for (Batch b : data.validation) {
                NDArray[] nll = SftLoss.nllSum(model, b, m);
                sum += nll[0].toType(DataType.FLOAT64, false).getDouble();
                tokens += SftLoss.count(nll[1]);
            }
            if (dropoutSteps != null) {
                dropoutSteps.setTraining(true);
            }
            return new EvalLoss.Result(sum, tokens);
        };
        TrainLoop.Result result = new TrainLoop(config, trainable, optimizer, schedule, loss).data(cursor).eval(eval).run();
        // ---- save
        Path adapterDir = null;
        Path modelDir = null;
        Path mergedDir = null;
        String dtype = r.export().dtype().yamlName().toUpperCase();
        if (lora) {
            adapterDir = out.resolve("adapter");
            adapter.setTraining(false);
            Peft.save(adapter, adapterDir, r.baseModel().toString(), "CAUSAL_LM", dtype).forEach(w -> log.println("warning: " + w));
            if (r.export().merged()) {
                mergedDir = out.resolve("merged");
                ModelWriter.deleteTree(mergedDir);
                Merge.mergeToCheckpoint(r.baseModel(), adapterDir, mergedDir, dtype);
            }
        } else {
            modelDir = out.resolve("model");
            ModelWriter.deleteTree(modelDir);
            ModelWriter.save(modelDir, model.config(), model.parameters(), dtype, r.baseModel());
        }
        log.printf("done: %d steps, last train loss %.4f; %s%n", result.steps(), result.lastLoss(),
                lora ? "adapter " + adapterDir + (mergedDir != null ? ", merged model " + mergedDir : "") : "model " + modelDir);
        if (adapter != null) {
            adapter.close();
        }
        model.close();
        tokenizer.close();
        return new Result(adapterDir, modelDir, mergedDir, result);
    }

    /** {@code max_steps} when set, else {@code ceil(num_epochs × steps per epoch)}. */
    static int totalSteps(Recipe r, int batchesPerEpoch) {
        if (r.maxSteps().isPresent()) {
            return r.maxSteps().getAsInt();
        }
        int stepsPerEpoch = Math.max(1, (batchesPerEpoch + r.gradientAccumulationSteps() - 1) / r.gradientAccumulationSteps());
        return (int) Math.ceil(r.numEpochs() * stepsPerEpoch);
    }
}
