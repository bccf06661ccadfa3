package ai.loro.lora;

import ai.loro.core.model.LlamaModel;
import ai.loro.core.io.AtomicFiles;
import ai.loro.core.model.ModelWriter;
import ai.loro.core.recipe.Recipe;
import java.io.PrintStream;
import java.nio.file.Path;

/** A recipe's {@code adapter:} block applied to a model, and the causal-LM outputs every stage writes the same way. */
public final class RecipeAdapters {
    private RecipeAdapters() {}

    /**
     * LoRA as the recipe says, attached and in training mode (PEFT export logs the server warnings);
     * null for {@code adapter.type: none} (full fine-tuning: the caller trains every parameter).
     */
    public static LoraAdapter attach(LlamaModel model, Recipe r) {
        if (r.adapter().type() != Recipe.AdapterType.LORA) {
            return null;
        }
        Recipe.Adapter a = r.adapter();
        LoraConfig config = LoraConfig.of(a.r(), a.alpha(), a.dropout(), a.targetModules().toArray(String[]::new))
                .withRslora(a.useRslora());
        LoraAdapter adapter = LoraAdapter.create(model, config, r.seed());
        adapter.attach(model);
        adapter.setTraining(true);
        return adapter;
    }

    /** Where a causal-LM stage's outputs went: {@code adapter} (+ {@code merged}) with LoRA, else {@code model}. */
    public record Saved(Path adapter, Path model, Path merged) {
        public String describe() {
            return adapter != null ? "adapter " + adapter + (merged != null ? ", merged model " + merged : "") : "model " + model;
        }
    }

    /** Writes output_dir/adapter (PEFT, CAUSAL_LM) and, with export.merged, output_dir/merged; or output_dir/model. */
    public static Saved saveCausalLm(Recipe r, LlamaModel model, LoraAdapter adapter, PrintStream log) {
        Path out = r.outputDir();
        String dtype = r.export().dtype().yamlName().toUpperCase();
        if (adapter == null) {
            Path modelDir = out.resolve("model");
            AtomicFiles.deleteTree(modelDir);
            ModelWriter.save(modelDir, model.config(), model.parameters(), dtype, r.baseModel());
            return new Saved(null, modelDir, null);
        }
        adapter.setTraining(false);
        Path adapterDir = out.resolve("adapter");
        Peft.save(adapter, adapterDir, r.baseModel().toString(), "CAUSAL_LM", dtype).forEach(w -> log.println("warning: " + w));
        Path mergedDir = null;
        if (r.export().merged()) {
            mergedDir = out.resolve("merged");
            AtomicFiles.deleteTree(mergedDir);
            Merge.mergeToCheckpoint(r.baseModel(), adapterDir, mergedDir, dtype);
        }
        return new Saved(adapterDir, null, mergedDir);
    }
}
