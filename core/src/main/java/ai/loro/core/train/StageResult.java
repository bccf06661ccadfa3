package ai.loro.core.train;

import java.nio.file.Path;
import java.util.Map;

/**
 * What every stage returns, one shape for all, so the CLI and pipelines need not know which stage ran.
 *
 * @param adapter the PEFT adapter folder, or null (full fine-tuning)
 * @param model a full checkpoint the stage wrote itself (full fine-tuning; the reward model and the
 *     classifier, whose LoRA is always merged into it), or null
 * @param merged base + adapter merged (export.merged), or null
 * @param training how the shared loop ended; null for a stage with a loop of its own (PPO)
 * @param metrics the stage's final held-out numbers (e.g. {@code accuracy}, {@code loss}); may be empty
 */
public record StageResult(Path adapter, Path model, Path merged, TrainLoop.Result training, Map<String, Double> metrics) {
    public StageResult {
        metrics = Map.copyOf(metrics);
    }

    /** The full model a later stage can start from: the merged one, else the stage's own; null for an adapter alone. */
    public Path fullModel() {
        return merged != null ? merged : model;
    }
}
