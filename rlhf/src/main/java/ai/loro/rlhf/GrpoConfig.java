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
 * The recipe's {@code grpo:} block (stage grpo): group relative policy optimization with TRL's GRPOConfig names and
 * defaults. Rewards as PPO's (a reward model, named functions, a classifier), each multiplied by its
 * {@code reward_weights} entry (in the order reward model, functions, classifier; empty = all 1) and summed;
 * {@code epsilon_high} unset = {@code epsilon}; {@code beta} 0 = no reference pass.
 */
public record GrpoConfig(
        @Key(doc = "a reward model checkpoint (loro train of stage reward)", is = Is.MODEL)
        Optional<Path> rewardModel,
        @Key(doc = "Java reward functions by name (exact_match, regex:PATTERN, ...)", dflt = "[]",
                list = "a list of reward function names")
        List<String> rewardFunctions,
        @Key(doc = "one weight per reward, in the order reward model, functions, classifier (absent: all 1)",
                list = "a list of numbers, one per reward")
        List<Double> rewardWeights,
        @Key(doc = "a classifier checkpoint (stage reward with num_labels > 1) whose probability is a reward",
                is = Is.MODEL)
        Optional<Path> rewardClassifier,
        @Key(doc = "the classifier's label whose probability is the reward")
        Optional<String> rewardClassifierLabel,
        @Key(doc = "completions sampled per prompt (the group)", is = Is.GROUP_SIZE, dflt = "8")
        int numGenerations,
        @Key(doc = "prompts per optimizer step", is = Is.POSITIVE, dflt = "4")
        int promptsPerStep,
        @Key(doc = "the longest sampled completion", is = Is.POSITIVE, dflt = "64")
        int maxNewTokens,
        @Key(doc = "the sampling temperature", is = Is.POSITIVE, dflt = "1.0")
        double temperature,
        @Key(doc = "top-k sampling (0 = off)", is = Is.NON_NEGATIVE, dflt = "0")
        int topK,
        @Key(doc = "nucleus sampling (1 = off)", is = Is.UNIT_LEFT_OPEN, dflt = "1.0")
        double topP,
        @Key(doc = "the k3 KL coefficient to the reference (0 = no reference pass)", is = Is.NON_NEGATIVE, dflt = "0.0")
        double beta,
        @Key(doc = "the ratio's lower clip range (and the upper one unless epsilon_high is set)", is = Is.POSITIVE,
                dflt = "0.2")
        double epsilon,
        @Key(doc = "the ratio's upper clip range (DAPO's clip-higher)", is = Is.POSITIVE)
        OptionalDouble epsilonHigh,
        @Key(doc = "updates per generation batch", is = Is.POSITIVE, dflt = "1")
        int numIterations,
        @Key(doc = "mini-batches each generation batch is split into", is = Is.POSITIVE, dflt = "1")
        int stepsPerGeneration,
        @Key(doc = "how token losses are averaged (GrpoLoss)", choices = GrpoLoss.LOSS_TYPES, dflt = "dapo")
        String lossType,
        @Key(doc = "what the advantages are divided by (GrpoAdvantages)", choices = GrpoAdvantages.SCALES,
                dflt = "group")
        String scaleRewards,
        @Key(doc = "the importance ratio per token or per sequence (GSPO)", choices = GrpoLoss.LEVELS,
                dflt = "token")
        String importanceSamplingLevel,
        @Key(doc = "completions cut at max_new_tokens get no loss", dflt = "false")
        boolean maskTruncatedCompletions,
        @Key(doc = "the baseline: the group mean (grpo) or leave-one-out (rloo)", choices = GrpoAdvantages.BASELINES,
                dflt = "grpo")
        String advantage,
        @Key(doc = "one prefill per prompt, its cache shared by the group's completions", dflt = "true")
        boolean sharePrefix,
        @Key(doc = "steps between printed sample completions (0 = none)", is = Is.NON_NEGATIVE, dflt = "10")
        int sampleEvery) {

    /** The block, as the CLI registers it. */
    public static final RecipeBlock<GrpoConfig> BLOCK = RecipeBlock.of("grpo", GrpoConfig.class);

    public GrpoConfig {
        Objects.requireNonNull(rewardModel, "rewardModel");
        rewardFunctions = List.copyOf(rewardFunctions);
        rewardWeights = List.copyOf(rewardWeights);
        Objects.requireNonNull(rewardClassifier, "rewardClassifier");
        Objects.requireNonNull(rewardClassifierLabel, "rewardClassifierLabel");
        Objects.requireNonNull(epsilonHigh, "epsilonHigh");
        Objects.requireNonNull(lossType, "lossType");
        Objects.requireNonNull(scaleRewards, "scaleRewards");
        Objects.requireNonNull(importanceSamplingLevel, "importanceSamplingLevel");
        Objects.requireNonNull(advantage, "advantage");
    }

    /** ε_high: the upper clip (DAPO's clip-higher), {@code epsilon} when not set. */
    public double upperEpsilon() {
        return epsilonHigh.orElse(epsilon);
    }
}
