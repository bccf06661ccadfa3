package ai.loro.rlhf;

import ai.loro.core.recipe.Key;
import ai.loro.core.recipe.Key.Is;
import ai.loro.core.recipe.RecipeBlock;
import java.nio.file.Path;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.OptionalDouble;

/**
 * The recipe's {@code ppo:} block (stage ppo), names as TRL's PPOConfig where it has them: PPO-based RLHF. Rewards
 * come from {@code reward_model} (a sequence-classification checkpoint), the named Java reward functions and/or a
 * classifier's probability, summed; {@code target_kl} set = the adaptive KL controller, else a fixed
 * {@code kl_coef}.
 */
public record PpoConfig(
        @Key(doc = "a reward model checkpoint (loro train of stage reward)", is = Is.MODEL)
        Optional<Path> rewardModel,
        @Key(doc = "Java reward functions by name, summed with the other rewards", dflt = "[]",
                list = "a list of reward function names")
        List<String> rewardFunctions,
        @Key(doc = "subtracted from the score of a response that did not end with EOS", is = Is.NON_NEGATIVE)
        OptionalDouble missingEosPenalty,
        @Key(doc = "prompts per PPO step", is = Is.POSITIVE, dflt = "8")
        int rolloutBatchSize,
        @Key(doc = "mini-batches each rollout is split into per epoch", is = Is.POSITIVE, dflt = "1")
        int numMiniBatches,
        @Key(doc = "optimisation epochs over each rollout", is = Is.POSITIVE, dflt = "4")
        int ppoEpochs,
        @Key(doc = "the longest sampled response", is = Is.POSITIVE, dflt = "64")
        int maxNewTokens,
        @Key(doc = "the sampling temperature (log-probs are of the logits divided by it)", is = Is.POSITIVE,
                dflt = "0.7")
        double temperature,
        @Key(doc = "top-k sampling (0 = off)", is = Is.NON_NEGATIVE, dflt = "0")
        int topK,
        @Key(doc = "nucleus sampling (1 = off)", is = Is.UNIT_LEFT_OPEN, dflt = "1.0")
        double topP,
        @Key(doc = "the KL penalty's coefficient (the adaptive controller's start)", is = Is.NON_NEGATIVE,
                dflt = "0.05")
        double klCoef,
        @Key(doc = "the per-token KL estimator", dflt = "k1")
        KlPenalty.Estimator klEstimator,
        @Key(doc = "set = the adaptive KL controller aiming at this KL", is = Is.POSITIVE)
        OptionalDouble targetKl,
        @Key(doc = "the adaptive controller's horizon", is = Is.POSITIVE, dflt = "10000.0")
        double klHorizon,
        @Key(doc = "GAE's discount", is = Is.UNIT, dflt = "1.0")
        double gamma,
        @Key(doc = "GAE's lambda", is = Is.UNIT, dflt = "0.95")
        double lam,
        @Key(doc = "the policy ratio's clip range", is = Is.POSITIVE, dflt = "0.2")
        double cliprange,
        @Key(doc = "the value prediction's clip range", is = Is.POSITIVE, dflt = "0.2")
        double cliprangeValue,
        @Key(doc = "the value loss's weight", is = Is.NON_NEGATIVE, dflt = "0.1")
        double vfCoef,
        @Key(doc = "the entropy bonus's weight", is = Is.NON_NEGATIVE, dflt = "0.0")
        double entCoef,
        @Key(doc = "whiten the per-token rewards before GAE", dflt = "false")
        boolean whitenRewards,
        @Key(doc = "steps between printed sample responses (0 = none)", is = Is.NON_NEGATIVE, dflt = "10")
        int sampleEvery,
        @Key(doc = "a classifier checkpoint (stage reward with num_labels > 1) whose probability is a reward",
                is = Is.MODEL)
        Optional<Path> rewardClassifier,
        @Key(doc = "the classifier's label whose probability is the reward")
        Optional<String> rewardClassifierLabel) {

    /** The block, as the CLI registers it. */
    public static final RecipeBlock<PpoConfig> BLOCK = RecipeBlock.of("ppo", PpoConfig.class);

    public PpoConfig {
        Objects.requireNonNull(rewardModel, "rewardModel");
        Objects.requireNonNull(rewardClassifier, "rewardClassifier");
        Objects.requireNonNull(rewardClassifierLabel, "rewardClassifierLabel");
        rewardFunctions = List.copyOf(rewardFunctions);
        Objects.requireNonNull(missingEosPenalty, "missingEosPenalty");
        Objects.requireNonNull(klEstimator, "klEstimator");
        Objects.requireNonNull(targetKl, "targetKl");
    }
}
