package ai.loro.rlhf;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
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
        classifier = PolicySetup.classifier(cfg.rewardClassifier(), cfg.rewardClassifierLabel(), device);
        List<RewardFunction> all = new ArrayList<>(functions);
        if (classifier != null) {
            all.add(classifier);
        }
        PolicySetup.requireAnswers(prompts, all, cfg.rewardFunctions());
        PolicySetup.Models models = PolicySetup.load(r, cfg.rewardModel(), device, log);
        policy = models.policy();
        rewardModel = models.rewardModel();
        adapter = models.adapter();
        trainable = new LinkedHashMap<>(adapter.parameters());
        adamW = RecipeTraining.optimizer(r, trainable);
        optimizer = PolicySetup.optimizerStep(adamW, r);
        Set<Long> eos = PolicySetup.eosIds(policy, tokenizer);
        padId = PolicySetup.padId(policy, tokenizer);
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
        PolicySetup.close(adapter, classifier, rewardModel, adamW, policy, tokenizer);
    }
}
