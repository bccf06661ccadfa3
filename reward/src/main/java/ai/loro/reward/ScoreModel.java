package ai.loro.reward;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.DataType;
import ai.loro.core.model.HfNames;
import ai.loro.core.model.LlamaModel;
import ai.loro.core.recipe.Recipe;
import ai.loro.core.train.RecipeTraining;
import ai.loro.lora.LoraAdapter;
import ai.loro.lora.RecipeAdapters;
import java.io.PrintStream;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * A Llama backbone with a {@code score} head of {@code labels} outputs, set up for training as
 * the recipe says (shared by the reward model and the classifier): quantized base if asked, then
 * LoRA with the head trained in full (PEFT modules_to_save), or every weight.
 *
 * @param adapter null for full fine-tuning
 */
record ScoreModel(LlamaModel model, NDArray score, LoraAdapter adapter, Map<String, NDArray> trainable) {
    static ScoreModel setUp(Recipe r, int labels, PrintStream log) {
        LlamaModel model = LlamaModel.loadAsClassifier(r.baseModel(), labels, r.seed(), RecipeTraining.computeDtype(r),
                RecipeTraining.device(r));
        RecipeTraining.prepareModel(model, r, log); // quantize, gradient_checkpointing (before the adapter attaches)
        NDArray score = model.parameters().get(HfNames.SCORE);
        LoraAdapter adapter = RecipeAdapters.attach(model, r);
        Map<String, NDArray> trainable = new LinkedHashMap<>();
        if (adapter != null) {
            trainable.putAll(adapter.parameters());
            trainable.put(HfNames.SCORE, score); // the head is trained in full (PEFT modules_to_save)
        } else {
            trainable.putAll(model.parameters());
        }
        return new ScoreModel(model, score, adapter, trainable);
    }
}
