package ai.loro.rlhf;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.loro.core.generate.Generator;
import ai.loro.core.model.LlamaModel;
import ai.loro.core.recipe.Recipe;
import ai.loro.core.tokenizer.LoroTokenizer;
import ai.loro.core.train.AdamW;
import ai.loro.core.train.OptimizerStep;
import ai.loro.core.train.RecipeTraining;
import ai.loro.lora.LoraAdapter;
import java.io.PrintStream;
import java.util.ArrayList;
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
        classifier = PolicySetup.classifier(cfg.rewardClassifier(), cfg.rewardClassifierLabel(), device);
        if (classifier != null) {
            functions.add(classifier);
        }
        PolicySetup.requireAnswers(prompts, functions, cfg.rewardFunctions());
        PolicySetup.Models models = PolicySetup.load(r, cfg.rewardModel(), device, log);
        policy = models.policy();
        rewardModel = models.rewardModel();
        adapter = models.adapter();
        valueHead = new ValueHead(policy.config().hiddenSize(), policy.manager(), policy.dtype());
        trainable = new LinkedHashMap<>(adapter.parameters());
        trainable.putAll(valueHead.parameters());
        adamW = RecipeTraining.optimizer(r, trainable);
        optimizer = PolicySetup.optimizerStep(adamW, r);
        Set<Long> eos = PolicySetup.eosIds(policy, tokenizer);
        padId = PolicySetup.padId(policy, tokenizer);
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
        PolicySetup.close(adapter, classifier, rewardModel, adamW, policy, tokenizer);
    }
}
