package ai.loro.cli;

import ai.loro.core.LoroException;
import ai.loro.core.io.HubCache;
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
import java.util.HashMap;
import java.util.List;
import java.util.Map;
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
            runPipeline(Pipeline.load(recipe));
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

    /** What one pipeline stage produced: its full model (or null) and its wall time. */
    record StageRun(String name, Path produced, double seconds) {}

    static List<StageRun> runPipeline(Pipeline p) {
        return runPipeline(p, Map.of());
    }

    /** Runs a pipeline; {@code extra} adds overrides (KEY=VALUE) to the named stages after their own 'set:'. */
    static List<StageRun> runPipeline(Pipeline p, Map<String, List<String>> extra) {
        List<StageRun> runs = new ArrayList<>();
        Map<String, Path> outputs = new HashMap<>();
        Path dir = p.file().toAbsolutePath().getParent();
        for (Pipeline.Stage s : p.stages()) {
            List<String> overrides = new ArrayList<>(s.set());
            overrides.addAll(extra.getOrDefault(s.name(), List.of()));
            p.outputDir().ifPresent(o -> overrides.add("output_dir=" + o.resolve(s.name())));
            String where = p.file() + ": stage '" + s.name() + "': ";
            s.baseModel().ifPresent(ref -> overrides.add("base_model=" + resolve(ref, outputs, dir, where + "base_model")));
            s.rewardModel().ifPresent(ref -> overrides.add("ppo.reward_model="
                    + resolve(ref, outputs, dir, where + "reward_model")));
            if (p.consumed().contains(s.name())) {
                overrides.add("export.merged=true"); // a later stage needs a full checkpoint, not an adapter
            }
            Path recipePath = s.recipe();
            Recipe r = RecipeLoader.load(recipePath, overrides);
            if (s.rewardModel().isPresent() && r.stage() != Recipe.Stage.PPO) {
                throw new LoroException(p.file() + ": stage '" + s.name() + "' sets reward_model, which only a ppo stage takes");
            }
            System.out.printf("=== pipeline stage %s (%s): %s%n", s.name(), r.stage().yamlName(), recipePath);
            long t0 = System.nanoTime();
            Path produced = runStage(r);
            if (produced != null) {
                outputs.put(s.name(), produced);
            }
            runs.add(new StageRun(s.name(), produced, (System.nanoTime() - t0) / 1e9));
        }
        return runs;
    }

    /** An earlier stage's output, else a path relative to the pipeline's folder, else a Hub id in the local cache. */
    private static Path resolve(String ref, Map<String, Path> outputs, Path dir, String where) {
        Path out = outputs.get(ref);
        if (out != null) {
            return out.toAbsolutePath();
        }
        try {
            return HubCache.resolve(ref, dir);
        } catch (LoroException e) {
            throw new LoroException(where + " " + ref + " is " + e.getMessage(), e);
        }
    }
}
