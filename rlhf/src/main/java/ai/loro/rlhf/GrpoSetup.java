package ai.loro.rlhf;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
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
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * What a GRPO run holds from start to end, loaded in a fixed order (the adapter's initialisation
 * draws from the engine's generator): the tokenizer and prompts; the reward functions, classifier
 * and reward model; the policy (base + LoRA, dropout off as in PPO); AdamW over the adapter and the
 * {@link OptimizerStep}; the group generator. No value head; the reference, when β &gt; 0, is the
 * policy with its adapter off. {@link #close} frees the models.
 */
final class GrpoSetup implements AutoCloseable {
    final LoroTokenizer tokenizer;
    final Prompts prompts;
    final List<RewardFunction> functions;
    final ClassifierReward classifier; // null unless grpo.reward_classifier
    final LlamaModel policy;
    final LlamaModel rewardModel; // null unless grpo.reward_model
    final LoraAdapter adapter;
    final Map<String, NDArray> trainable;
    final AdamW adamW;
    final OptimizerStep optimizer;
    final long padId;
    final GroupGenerator generator;
    private final GrpoConfig cfg;

    GrpoSetup(Recipe r, PrintStream log) {
        cfg = r.block(GrpoConfig.BLOCK);
        tokenizer = LoroTokenizer.load(r.baseModel());
        prompts = Prompts.load(r, tokenizer, log, cfg.maxNewTokens(), "grpo");
        functions = new ArrayList<>(cfg.rewardFunctions().stream().map(f -> RewardFunction.of(f, "grpo.reward_functions")).toList());
        Device device = RecipeTraining.device(r);
        classifier = cfg.rewardClassifier()
                .map(p -> new ClassifierReward(p, cfg.rewardClassifierLabel().orElse(null), device)).orElse(null);
        List<RewardFunction> all = new ArrayList<>(functions);
        if (classifier != null) {
            all.add(classifier);
        }
        if (all.stream().anyMatch(RewardFunction::needsAnswer)) {
            prompts.all().stream().filter(p -> p.answer() == null).findFirst().ifPresent(p -> {
                throw new LoroException(p.source() + ": reward functions " + cfg.rewardFunctions()
                        + " need an 'answer' on every prompt row");
            });
        }
        policy = LlamaModel.load(r.baseModel(), RecipeTraining.computeDtype(r), device);
        rewardModel = cfg.rewardModel().map(p -> RewardModelReward.load(p, policy.config(), r.seed(), device)).orElse(null);
        RecipeTraining.prepareModel(policy, r, log); // quantize, gradient_checkpointing
        adapter = RecipeAdapters.attach(policy, r);
        adapter.setTraining(false); // no dropout: the first update's ratio is 1
        trainable = new LinkedHashMap<>(adapter.parameters());
        adamW = RecipeTraining.optimizer(r, trainable);
        optimizer = new OptimizerStep(adamW, LossScaler.forOptimizer(adamW), r.maxGradNorm());
        Set<Long> eos = new HashSet<>(policy.config().eosTokenIds());
        if (tokenizer.eosId() != null) {
            eos.add(tokenizer.eosId());
        }
        padId = policy.config().padTokenId() != null ? policy.config().padTokenId()
                : tokenizer.padId() != null ? tokenizer.padId() : 0L;
        generator = new GroupGenerator(policy, eos, ids -> tokenizer.decode(ids, true), cfg.sharePrefix());
    }

    /** The weighted rewards: the reward model (read after {@code rewardTail}), the functions, the classifier. */
    GrpoRewards rewards(long[] rewardTail) {
        List<String> names = new ArrayList<>();
        List<RolloutReward> rewards = new ArrayList<>();
        if (rewardModel != null) {
            names.add("reward_model");
            rewards.add(new RewardModelReward(rewardModel, rewardTail, padId));
        }
        for (int i = 0; i < functions.size(); i++) {
            names.add(cfg.rewardFunctions().get(i));
            rewards.add(RolloutReward.of(functions.get(i)));
        }
        if (classifier != null) {
            names.add("classifier");
            rewards.add(RolloutReward.of(classifier));
        }
        return GrpoRewards.of(names, rewards, cfg.rewardWeights());
    }

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
