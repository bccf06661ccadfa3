package ai.loro.sft;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.DataType;
import ai.loro.core.model.LlamaModel;
import ai.loro.core.recipe.Recipe;
import ai.loro.core.tokenizer.LoroTokenizer;
import ai.loro.core.train.EpochCursor;
import ai.loro.core.train.EvalLoss;
import ai.loro.core.train.MicroBatchLoss;
import ai.loro.core.train.RecipeTraining;
import ai.loro.core.train.StageResult;
import ai.loro.core.train.TrainLoop;
import ai.loro.datasets.Batch;
import ai.loro.lora.LoraAdapter;
import ai.loro.lora.RecipeAdapters;
import java.io.PrintStream;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Supervised instruction tuning: setup (data, model, adapter), train (the shared loop with a
 * next-token loss on assistant tokens), save (PEFT adapter, optionally merged; or the full model).
 * Re-running the same recipe resumes from the newest complete checkpoint in {@code output_dir}.
 */
public final class SftStage {
    private SftStage() {}

    /** Where the run's artifacts are: {@code adapter} (and {@code merged}) with LoRA, else {@code model}. */
    public static StageResult run(Recipe r, PrintStream log) {
        RecipeTraining.prepareOutput(r);
        // ---- setup
        try (LoroTokenizer tokenizer = LoroTokenizer.load(r.baseModel())) {
            SftData data = SftData.load(r, tokenizer, log);
            // quantize, gradient_checkpointing: before the adapter attaches
            try (LlamaModel model = RecipeTraining.prepared(
                    LlamaModel.load(r.baseModel(), RecipeTraining.computeDtype(r), RecipeTraining.device(r)), r, log);
                 LoraAdapter adapter = RecipeAdapters.attach(model, r)) {
                Map<String, NDArray> trainable;
                if (adapter != null) {
                    trainable = adapter.parameters();
                } else {
                    trainable = new LinkedHashMap<>(model.parameters());
                    trainable.values().forEach(p -> p.setRequiresGradient(true));
                }
                int steps = RecipeTraining.totalSteps(r, data.batchesPerEpoch());
                log.printf("model %s: %,d parameters, %,d trainable (%s); %d steps of %d x %d sequences%n",
                        r.baseModel().getFileName(), model.config().parameterCount(),
                        trainable.values().stream().mapToLong(p -> p.getShape().size()).sum(),
                        adapter != null ? "LoRA r=" + r.adapter().r() : "full fine-tuning", steps,
                        r.gradientAccumulationSteps(), r.microBatchSize());
                // ---- train
                EpochCursor<Batch> cursor = new EpochCursor<>(data::epoch, data.batchesPerEpoch());
                MicroBatchLoss loss = (m, step, micro) -> {
                    NDArray[] nll = SftLoss.nllSum(model, cursor.next(), m);
                    return new MicroBatchLoss.Result(nll[0], SftLoss.count(nll[1]));
                };
                TrainLoop.Result result = RecipeTraining.train(r, steps, trainable, adapter, cursor, loss,
                        data.validation.isEmpty() ? null : evaluation(model, data.validation));
                // ---- save
                RecipeAdapters.Saved saved = RecipeAdapters.saveCausalLm(r, model, adapter, log);
                log.printf("done: %d steps, last train loss %.4f; %s%n", result.steps(), result.lastLoss(), saved.describe());
                return new StageResult(saved.adapter(), saved.model(), saved.merged(), result, Map.of());
            }
        }
    }

    /** The summed next-token loss over the validation batches and their loss-token count. */
    static EvalLoss evaluation(LlamaModel model, List<Batch> validation) {
        return (m, step) -> {
            double sum = 0;
            long tokens = 0;
            for (Batch b : validation) {
                NDArray[] nll = SftLoss.nllSum(model, b, m);
                sum += nll[0].toType(DataType.FLOAT64, false).getDouble();
                tokens += SftLoss.count(nll[1]);
            }
            return new EvalLoss.Result(sum, tokens);
        };
    }
}
