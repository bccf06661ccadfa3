package ai.loro.reward;

import ai.loro.core.io.AtomicFiles;
import ai.djl.ndarray.NDArray;
import ai.loro.core.model.HfNames;
import ai.loro.core.model.LlamaModel;
import ai.loro.core.model.ModelWriter;
import ai.loro.core.recipe.Recipe;
import ai.loro.core.train.RecipeTraining;
import ai.loro.lora.LoraAdapter;
import ai.loro.lora.Merge;
import ai.loro.lora.Peft;
import ai.loro.lora.RecipeAdapters;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * A Llama backbone with a {@code score} head of {@code labels} outputs, set up for training as
 * the recipe says (shared by the reward model and the classifier): quantized base if asked, then
 * LoRA with the head trained in full (PEFT modules_to_save), or every weight. Closing it closes
 * the adapter, then the model.
 *
 * @param adapter null for full fine-tuning
 */
record ScoreModel(LlamaModel model, NDArray score, LoraAdapter adapter, Map<String, NDArray> trainable)
        implements AutoCloseable {
    static ScoreModel setUp(Recipe r, int labels, PrintStream log) {
        // quantize, gradient_checkpointing: before the adapter attaches
        LlamaModel model = RecipeTraining.prepared(LlamaModel.loadAsClassifier(r.baseModel(), labels, r.seed(),
                RecipeTraining.computeDtype(r), RecipeTraining.device(r)), r, log);
        LoraAdapter adapter;
        try {
            adapter = RecipeAdapters.attach(model, r);
        } catch (RuntimeException e) {
            model.close();
            throw e;
        }
        NDArray score = model.parameters().get(HfNames.SCORE);
        Map<String, NDArray> trainable = new LinkedHashMap<>();
        if (adapter != null) {
            trainable.putAll(adapter.parameters());
            trainable.put(HfNames.SCORE, score); // the head is trained in full (PEFT modules_to_save)
        } else {
            trainable.putAll(model.parameters());
        }
        return new ScoreModel(model, score, adapter, trainable);
    }

    /** Where {@link #save} wrote: the PEFT adapter (null with full fine-tuning) and the full checkpoint. */
    record Saved(Path adapter, Path model) {}

    /**
     * Writes output_dir/adapter with LoRA (PEFT SEQ_CLS, the head in modules_to_save) and always
     * output_dir/model: the sequence-classification checkpoint, LoRA merged, with {@code pad_token_id}
     * (the score is read at the last non-pad token).
     */
    Saved save(Recipe r, long padId, PrintStream log) {
        String dtype = r.export().dtype().yamlName().toUpperCase();
        Path adapterDir = null;
        Map<String, NDArray> weights = model.parameters();
        if (adapter != null) {
            adapterDir = r.outputDir().resolve("adapter");
            Peft.save(adapter, adapterDir, r.baseModel().toString(), "SEQ_CLS", dtype, Map.of("score", score))
                    .forEach(w -> log.println("warning: " + w));
            weights = Merge.mergedWeights(model, adapter);
        }
        Path modelDir = r.outputDir().resolve("model");
        AtomicFiles.deleteTree(modelDir);
        ModelWriter.save(modelDir, model.config().withPadTokenId(padId), weights, dtype, r.baseModel());
        return new Saved(adapterDir, modelDir);
    }

    @Override
    public void close() {
        try (LlamaModel m = model; LoraAdapter a = adapter) {
            // closes the adapter (detaching it), then the model
        }
    }
}
