package ai.loro.cli;

import ai.loro.core.LoroException;
import ai.loro.core.recipe.Pipeline;
import ai.loro.core.recipe.Recipe;
import ai.loro.core.train.Stage;
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
            runStage(Recipes.load(recipe, set));
        }
        return 0;
    }

    /** Runs one stage; returns the full model it produced for later stages (merged, or fully fine-tuned). */
    static Path runStage(Recipe r) {
        return stage(r).run(r, System.out).fullModel();
    }

    /** The stage a recipe runs ({@link Stages}). */
    static Stage stage(Recipe r) {
        return Stages.of(r);
    }
}
