package ai.loro.cli;

import ai.loro.core.LoroException;
import ai.loro.core.recipe.Recipe;
import ai.loro.core.recipe.RecipeLoader;
import ai.loro.sft.SftStage;
import ai.loro.reward.RewardStage;
import ai.loro.dpo.DpoStage;
import ai.loro.rlhf.PpoStage;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code loro train RECIPE.yaml [--set key=value ...]}: run the recipe's stage. */
@Command(name = "train", mixinStandardHelpOptions = true,
        description = {"Run a recipe's stage. Re-running the same recipe resumes from the newest complete checkpoint"
                + " in its output_dir.",
            "Relative paths in the recipe resolve against the recipe's folder."})
final class TrainCommand implements Callable<Integer> {
    @Parameters(index = "0", paramLabel = "RECIPE.yaml", description = "The recipe.") Path recipe;

    @Option(names = "--set", paramLabel = "KEY=VALUE",
            description = "Override a recipe key (dotted paths: adapter.r=16, datasets.0.path=x.jsonl); repeatable.")
    List<String> set = new ArrayList<>();

    @Override
    public Integer call() {
        Recipe r = RecipeLoader.load(recipe, set);
        switch (r.stage()) {
            case SFT -> SftStage.run(r, System.out);
            case REWARD -> RewardStage.run(r, System.out);
            case DPO -> DpoStage.run(r, System.out);
            case PPO -> PpoStage.run(r, System.out);
            default -> throw new LoroException(recipe + ": stage '" + r.stage().yamlName()
                    + "' is not available yet (available: sft, reward, dpo, ppo)");
        }
        return 0;
    }
}
