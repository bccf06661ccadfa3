package ai.loro.sft;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.DataType;
import ai.loro.core.model.LlamaModel;
import ai.loro.core.recipe.Recipe;
import ai.loro.core.tokenizer.LoroTokenizer;
import ai.loro.core.train.AdamW;
import ai.loro.core.train.RecipeTraining;
import ai.loro.core.train.EpochCursor;
import ai.loro.core.train.EvalLoss;
import ai.loro.core.train.MicroBatchLoss;
import ai.loro.core.train.Schedule;
import ai.loro.core.train.TrainConfig;
import ai.loro.core.train.TrainLoop;
import ai.loro.datasets.Batch;
import ai.loro.lora.LoraAdapter;
import ai.loro.lora.RecipeAdapters;
import java.io.PrintStream;
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
        RecipeTraining.prepareOutput(r);
        // ---- setup
        LoroTokenizer tokenizer = LoroTokenizer.load(r.baseModel());
        SftData data = SftData.load(r, tokenizer, log);
        LlamaModel model = LlamaModel.load(r.baseModel(), RecipeTraining.computeDtype(r), RecipeTraining.device(r));
        RecipeTraining.prepareModel(model, r, log); // quantize, gradient_checkpointing (before the adapter attaches)
        LoraAdapter adapter = RecipeAdapters.attach(model, r);
        boolean lora = adapter != null;
        Map<String, NDArray> trainable;
        if (lora) {
            trainable = adapter.parameters();
        } else {
            trainable = new LinkedHashMap<>(model.parameters());
            trainable.values().forEach(p -> p.setRequiresGradient(true));
        }
        int steps = RecipeTraining.totalSteps(r, data.batchesPerEpoch());
        AdamW optimizer = RecipeTraining.optimizer(r, trainable);
        Schedule schedule = RecipeTraining.schedule(r, steps);
        TrainConfig config = RecipeTraining.config(r, steps, !data.validation.isEmpty());
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
        RecipeAdapters.Saved saved = RecipeAdapters.saveCausalLm(r, model, adapter, log);
        log.printf("done: %d steps, last train loss %.4f; %s%n", result.steps(), result.lastLoss(), saved.describe());
        if (adapter != null) {
            adapter.close();
        }
        model.close();
        tokenizer.close();
        return new Result(saved.adapter(), saved.model(), saved.merged(), result);
    }

}
