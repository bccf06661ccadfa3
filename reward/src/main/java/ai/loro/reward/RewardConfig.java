package ai.loro.reward;

import ai.loro.core.recipe.Key;
import ai.loro.core.recipe.Key.Is;
import ai.loro.core.recipe.RecipeBlock;
import java.util.List;

/**
 * The recipe's {@code reward:} block (stage reward): the classification head's outputs (more than one = a
 * classifier, {@link ClassifierStage}), TRL's reward centring, and whether data-set margins apply.
 */
public record RewardConfig(
        @Key(doc = "outputs of the head: 1 = a reward model, more = a classifier", is = Is.POSITIVE, dflt = "1")
        int numLabels,
        @Key(doc = "TRL's center_rewards_coefficient", is = Is.NON_NEGATIVE, dflt = "0.0")
        double centerRewardsCoefficient,
        @Key(doc = "subtract the data set's margin inside the Bradley-Terry loss", dflt = "false")
        boolean useMargin,
        @Key(doc = "the classifier's class names (label i = the i-th name)", nonEmpty = true,
                list = "a list of class names (label i = the i-th name)")
        List<String> labels) {

    /** The block, as the CLI registers it. */
    public static final RecipeBlock<RewardConfig> BLOCK = RecipeBlock.of("reward", RewardConfig.class);

    public RewardConfig {
        labels = List.copyOf(labels);
    }
}
