package ai.loro.dpo;

import ai.loro.core.recipe.Key;
import ai.loro.core.recipe.Key.Is;
import ai.loro.core.recipe.RecipeBlock;
import java.nio.file.Path;
import java.util.Objects;
import java.util.Optional;
import java.util.OptionalDouble;

/**
 * The recipe's {@code dpo:} block (stage dpo), names as TRL's DPOConfig. {@code reference_model} unset = the base
 * with the adapter switched off (no second copy in memory).
 */
public record DpoConfig(
        @Key(doc = "the DPO temperature beta", is = Is.POSITIVE, dflt = "0.1")
        double beta,
        @Key(doc = "the loss (DpoLoss.Type)", dflt = "sigmoid")
        DpoLoss.Type lossType,
        @Key(doc = "cDPO's label smoothing (robust: the assumed label noise)", is = Is.BELOW_HALF, dflt = "0.0")
        double labelSmoothing,
        @Key(doc = "RPO's weight on the chosen response's NLL", is = Is.NON_NEGATIVE)
        OptionalDouble rpoAlpha,
        @Key(doc = "a separate frozen reference checkpoint", is = Is.MODEL)
        Optional<Path> referenceModel,
        @Key(doc = "compute every reference log-prob once, before training", dflt = "false")
        boolean precomputeRefLogProbs,
        @Key(doc = "a folder of reference log-probs written by loro spark ref-logprobs (absent: computed in the stage)")
        Optional<Path> referenceLogProbs) {

    /** The block, as the CLI registers it. */
    public static final RecipeBlock<DpoConfig> BLOCK = RecipeBlock.of("dpo", DpoConfig.class);

    public DpoConfig {
        Objects.requireNonNull(lossType, "lossType");
        Objects.requireNonNull(rpoAlpha, "rpoAlpha");
        Objects.requireNonNull(referenceModel, "referenceModel");
        Objects.requireNonNull(referenceLogProbs, "referenceLogProbs");
    }
}
