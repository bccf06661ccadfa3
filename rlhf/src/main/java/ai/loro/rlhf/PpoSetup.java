package ai.loro.rlhf;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.loro.core.LoroException;
import ai.loro.core.generate.Generator;
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
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * What a PPO run holds from start to end, loaded from its recipe in a fixed order (the adapter's
 * initialisation draws from the engine's generator): the tokenizer and prompts; the reward
 * functions (the classifier last) and the reward model; the policy (base + LoRA, dropout off, as
 * in TRL) with its value head; AdamW over both and the {@link OptimizerStep}; the generator.
 * {@link #close} frees the models.
 */
final class PpoSetup implements AutoCloseable {
    final LoroTokenizer tokenizer;
    final Prompts prompts;
    final List<RewardFunction> functions;
    final ClassifierReward classifier; // null unless ppo.reward_classifier
    final LlamaModel policy;
    final LlamaModel rewardModel; // null unless ppo.reward_model
    final LoraAdapter adapter;
    final ValueHead valueHead;
    final Map<String, NDArray> trainable; // adapter, then value head
    final AdamW adamW;
    final OptimizerStep optimizer;
    final long padId;
    final Generator generator;

    PpoSetup(Recipe r, PrintStream log) {
        PpoConfig cfg = r.block(PpoConfig.BLOCK);
        tokenizer = LoroTokenizer.load(r.baseModel());
        prompts = Prompts.load(r, tokenizer, log);
        functions = new ArrayList<>(cfg.rewardFunctions().stream().map(RewardFunction::of).toList());
        Device device = RecipeTraining.device(r);
        classifier = cfg.rewardClassifier()
                .map(p -> new ClassifierReward(p, cfg.rewardClassifierLabel().orElse(null), device)).orElse(null);
        if (classifier != null) {
            functions.add(classifier);
        }
        if (functions.stream().anyMatch(RewardFunction::needsAnswer)) {
            prompts.all().stream().filter(p -> p.answer() == null).findFirst().ifPresent(p -> {
                throw new LoroException(p.source() + ": reward functions " + cfg.rewardFunctions()
                        + " need an 'answer' on every prompt row");
            });
        }
        policy = LlamaModel.load(r.baseModel(), RecipeTraining.computeDtype(r), device);
        rewardModel = cfg.rewardModel().map(p -> RewardModelReward.load(p, policy.config(), r.seed(), device)).orElse(null);
        RecipeTraining.prepareModel(policy, r, log); // quantize (a quantized frozen base, and reference), gradient_checkpointing
        adapter = RecipeAdapters.attach(policy, r);
        adapter.setTraining(false); // no dropout in PPO
        valueHead = new ValueHead(policy.config().hiddenSize(), policy.manager(), policy.dtype());
        trainable = new LinkedHashMap<>(adapter.parameters());
        trainable.putAll(valueHead.parameters());
        adamW = RecipeTraining.optimizer(r, trainable);
        optimizer = new OptimizerStep(adamW, LossScaler.forOptimizer(adamW), r.maxGradNorm()); // a loss scaler with fp16: true
        Set<Long> eos = new HashSet<>(policy.config().eosTokenIds());
        if (tokenizer.eosId() != null) {
            eos.add(tokenizer.eosId());
        }
        padId = policy.config().padTokenId() != null ? policy.config().padTokenId()
                : tokenizer.padId() != null ? tokenizer.padId() : 0L;
        generator = new Generator(policy, eos, ids -> tokenizer.decode(ids, true));
    }

    /**
     * The rewards of each rollout, summed in this order: the reward model (its score read after
     * {@code rewardTail}), then the recipe's functions, then the classifier.
     */
    List<RolloutReward> rewards(long[] rewardTail) {
        List<RolloutReward> out = new ArrayList<>();
        if (rewardModel != null) {
            out.add(new RewardModelReward(rewardModel, rewardTail, padId));
        }
        functions.forEach(f -> out.add(RolloutReward.of(f)));
        return out;
    }

    /** The number of trainable parameters (LoRA + value head). */
    long trainableCount() {
        return trainable.values().stream().mapToLong(p -> p.getShape().size()).sum();
    }

    @Override
    public void close() {
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
