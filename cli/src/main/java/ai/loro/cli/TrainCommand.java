package ai.loro.cli;

import ai.loro.core.LoroException;
import ai.loro.core.recipe.Pipeline;
import ai.loro.core.recipe.Recipe;
import ai.loro.core.recipe.RecipeLoader;
import ai.loro.core.train.Stage;
import ai.loro.core.train.StageResult;
import ai.loro.dpo.DpoStage;
import ai.loro.reward.ClassifierStage;
import ai.loro.reward.RewardStage;
import ai.loro.rlhf.GrpoStage;
import ai.loro.rlhf.PpoStage;
import ai.loro.sft.SftStage;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code loro train RECIPE.yaml [--set key=value ...]}: run the recipe's stage, or a pipeline of stages. */
@Command(name = "train", mixinStandardHelpOptions = true,
        description = {"Run a recipe's stage, or a pipeline (a file with 'stages:') stage after stage. Re-running resumes"
                + " each stage from the newest complete checkpoint in its output_dir.",
            "Relative paths in a recipe resolve against the recipe's folder."})
final class TrainCommand implements Callable<Integer> {
    @Parameters(index = "0", paramLabel = "RECIPE.yaml", description = "The recipe or pipeline.") Path recipe;

    @Option(names = "--set", paramLabel = "KEY=VALUE",
            description = "Override a recipe key (dotted paths: adapter.r=16, datasets.0.path=x.jsonl); repeatable."
                    + " Not for pipelines (each stage has its own 'set:').")
    List<String> set = new ArrayList<>();

    @Override
    public Integer call() {
        if (!Files.isRegularFile(recipe)) {
            throw new LoroException(recipe + ": recipe file not found");
        }
        if (Pipeline.isPipeline(recipe)) {
            if (!set.isEmpty()) {
                throw new LoroException(recipe + ": --set applies to single-stage recipes; give pipeline stages their own 'set:'");
            }
            PipelineRunner.runPipeline(Pipeline.load(recipe));
        } else {
            runStage(RecipeLoader.load(recipe, set));
        }
        return 0;
    }

    /** Runs one stage; returns the full model it produced for later stages (merged, or fully fine-tuned). */
    static Path runStage(Recipe r) {
        return stage(r).run(r, System.out).fullModel();
    }

    /** The stage a recipe runs: its {@code stage:}, and for {@code reward} with {@code num_labels > 1} the classifier. */
    static Stage stage(Recipe r) {
        return switch (r.stage()) {
            case SFT -> SftStage::run;
            case REWARD -> r.reward().numLabels() > 1 ? ClassifierStage::run : RewardStage::run;
            case DPO -> DpoStage::run;
            case PPO -> (recipe, log) -> {
                PpoStage.Result res = PpoStage.run(recipe, log); // PPO runs a loop of its own: no TrainLoop result
                return new StageResult(res.adapter(), null, res.merged(), null, res.lastMetrics());
            };
            case GRPO -> (recipe, log) -> {
                GrpoStage.Result res = GrpoStage.run(recipe, log); // a loop of its own, as PPO's
                return new StageResult(res.adapter(), null, res.merged(), null, res.lastMetrics());
            };
        };
    }
}
