package ai.loro.rlhf;

import ai.djl.Device;
import ai.loro.core.LoroException;
import ai.loro.core.model.LlamaModel;
import ai.loro.core.recipe.Recipe;
import ai.loro.core.tokenizer.LoroTokenizer;
import ai.loro.core.train.AdamW;
import ai.loro.core.train.LossScaler;
import ai.loro.core.train.OptimizerStep;
import ai.loro.core.train.RecipeTraining;
import ai.loro.lora.LoraAdapter;
import ai.loro.lora.RecipeAdapters;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;

/**
 * The setup PPO ({@link PpoSetup}) and GRPO ({@link GrpoSetup}) share: the policy with its LoRA
 * adapter and the reward model beside it, the prompts' answers the reward functions need, the stop
 * and padding ids, and the order a run's models close in.
 */
final class PolicySetup {
    private PolicySetup() {}

    /** The policy (base + LoRA), the reward model (null when there is none) and the policy's adapter. */
    record Models(LlamaModel policy, LlamaModel rewardModel, LoraAdapter adapter) {}

    /**
     * Loads the policy, then the reward model at {@code rewardModel} (its score head, when fresh,
     * initialised from the recipe's seed), quantizes and configures the policy from the recipe and
     * attaches the adapter with dropout off, so the first update's ratio is 1 (as in TRL). The
     * adapter's initialisation draws from the engine's generator: this order is part of a run.
     */
    static Models load(Recipe r, Optional<Path> rewardModel, Device device, PrintStream log) {
        LlamaModel policy = LlamaModel.load(r.baseModel(), RecipeTraining.computeDtype(r), device);
        LlamaModel rm = rewardModel.map(p -> RewardModelReward.load(p, policy.config(), r.seed(), device)).orElse(null);
        RecipeTraining.prepareModel(policy, r, log); // quantize (a quantized frozen base, and reference), gradient_checkpointing
        LoraAdapter adapter = RecipeAdapters.attach(policy, r);
        adapter.setTraining(false);
        return new Models(policy, rm, adapter);
    }

    /** The classifier reward at {@code path}, its probability of {@code label} (default: the checkpoint's); null without a path. */
    static ClassifierReward classifier(Optional<Path> path, Optional<String> label, Device device) {
        return path.map(p -> new ClassifierReward(p, label.orElse(null), device)).orElse(null);
    }

    /** One optimizer step over AdamW: a loss scaler when the model is fp16, gradients clipped to the recipe's max_grad_norm. */
    static OptimizerStep optimizerStep(AdamW adamW, Recipe r) {
        return new OptimizerStep(adamW, LossScaler.forOptimizer(adamW), r.maxGradNorm());
    }

    /** Rejects the first prompt without an answer when one of {@code rewards} needs answers ({@code names}: the recipe's functions). */
    static void requireAnswers(Prompts prompts, List<? extends RewardFunction> rewards, List<String> names) {
        if (rewards.stream().anyMatch(RewardFunction::needsAnswer)) {
            prompts.all().stream().filter(p -> p.answer() == null).findFirst().ifPresent(p -> {
                throw new LoroException(p.source() + ": reward functions " + names + " need an 'answer' on every prompt row");
            });
        }
    }

    /** The tokens that end a rollout: the model's eos_token_id(s) and the tokenizer's EOS. */
    static Set<Long> eosIds(LlamaModel policy, LoroTokenizer tokenizer) {
        Set<Long> eos = new HashSet<>(policy.config().eosTokenIds());
        if (tokenizer.eosId() != null) {
            eos.add(tokenizer.eosId());
        }
        return eos;
    }

    /** The padding id of rollouts: the model's pad_token_id, else the tokenizer's, else 0. */
    static long padId(LlamaModel policy, LoroTokenizer tokenizer) {
        return policy.config().padTokenId() != null ? policy.config().padTokenId()
                : tokenizer.padId() != null ? tokenizer.padId() : 0L;
    }

    /** Frees a run's models in order: adapter, classifier and reward model (either may be null), optimizer, policy, tokenizer. */
    static void close(LoraAdapter adapter, ClassifierReward classifier, LlamaModel rewardModel, AdamW adamW,
                      LlamaModel policy, LoroTokenizer tokenizer) {
        adapter.close();
        if (classifier != null) {
            classifier.close();
        }
        if (rewardModel != null) {
            rewardModel.close();
        }
        adamW.close();
        policy.close();
        tokenizer.close();
    }
}
