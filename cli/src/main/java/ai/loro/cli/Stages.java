package ai.loro.cli;

import ai.loro.core.recipe.Recipe;
import ai.loro.core.recipe.RecipeBlock;
import ai.loro.core.recipe.RecipeSchema;
import ai.loro.core.train.Stage;
import ai.loro.core.train.StageResult;
import ai.loro.dpo.DpoConfig;
import ai.loro.dpo.DpoStage;
import ai.loro.reward.ClassifierStage;
import ai.loro.reward.RewardConfig;
import ai.loro.reward.RewardStage;
import ai.loro.rlhf.GrpoConfig;
import ai.loro.rlhf.GrpoStage;
import ai.loro.rlhf.PpoConfig;
import ai.loro.rlhf.PpoStage;
import ai.loro.sft.SftStage;
import ai.loro.datasets.DatasetFormat;
import ai.loro.datasets.PreferenceFormat;
import ai.loro.rlhf.Prompts;
import java.util.Arrays;
import java.util.List;
import java.util.stream.Stream;
import java.util.Objects;

/**
 * Every stage {@code loro train} runs: its {@code stage:} name, the recipe block its module declares (or none) and
 * how it runs. A new stage is one more line in {@link #ALL} (docs/recipes.md).
 */
public final class Stages {
    private Stages() {}

    /** One stage: {@code block} null = the stage reads only top-level keys. */
    public record Entry(String name, RecipeBlock<?> block, Stage run) {
        public Entry {
            Objects.requireNonNull(name, "name");
            Objects.requireNonNull(run, "run");
        }
    }

    /** In this order in the {@code stage} message; their blocks in this order in recipe.yaml. */
    public static final List<Entry> ALL = List.of(
            new Entry("sft", null, SftStage::run),
            new Entry("reward", RewardConfig.BLOCK, Stages::reward),
            new Entry("dpo", DpoConfig.BLOCK, DpoStage::run),
            new Entry("ppo", PpoConfig.BLOCK, Stages::ppo),
            new Entry("grpo", GrpoConfig.BLOCK, Stages::grpo));

    /** The data set {@code type}s, in this order in messages: each module's formats. */
    public static final List<String> DATASET_TYPES = Stream.of(
            Arrays.stream(DatasetFormat.values()).map(DatasetFormat::id),
            Arrays.stream(PreferenceFormat.values()).map(PreferenceFormat::id),
            Stream.of(ClassifierStage.TYPE, Prompts.TYPE)).flatMap(s -> s).toList();

    /** What a recipe may say: these stages, their blocks and the data set types. */
    public static final RecipeSchema SCHEMA = RecipeSchema.of(ALL.stream().map(Entry::name).toList(),
            ALL.stream().<RecipeBlock<?>>map(Entry::block).filter(Objects::nonNull).toList(), DATASET_TYPES);

    /** The stage a recipe runs (its {@code stage:} is one of {@link #ALL}: the loader checked it). */
    public static Stage of(Recipe r) {
        return ALL.stream().filter(e -> e.name().equals(r.stage())).findFirst().orElseThrow().run();
    }

    /** {@code reward} with {@code num_labels > 1} trains the classifier. */
    private static StageResult reward(Recipe r, java.io.PrintStream log) {
        return r.block(RewardConfig.BLOCK).numLabels() > 1 ? ClassifierStage.run(r, log) : RewardStage.run(r, log);
    }

    /** PPO runs a loop of its own: no TrainLoop result. */
    private static StageResult ppo(Recipe r, java.io.PrintStream log) {
        PpoStage.Result res = PpoStage.run(r, log);
        return new StageResult(res.adapter(), null, res.merged(), null, res.lastMetrics());
    }

    /** GRPO runs a loop of its own, as PPO's. */
    private static StageResult grpo(Recipe r, java.io.PrintStream log) {
        GrpoStage.Result res = GrpoStage.run(r, log);
        return new StageResult(res.adapter(), null, res.merged(), null, res.lastMetrics());
    }
}
