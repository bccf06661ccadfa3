package ai.loro.rlhf;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.loro.core.LoroException;
import ai.loro.core.model.LlamaConfig;
import ai.loro.core.model.LlamaModel;
import java.nio.file.Path;

/**
 * A reward model's score of each rollout row (a one-label {@code *ForSequenceClassification}
 * checkpoint, as the reward stage writes), read in one batched forward pass. Finished rows get the
 * chat template's tail after EOS ({@link Rollout#forRewardModel}), so the score is read at the token
 * the reward model was trained to score. The caller owns (and closes) the model.
 */
public final class RewardModelReward implements RolloutReward {
    private final LlamaModel model;
    private final long[] tail;
    private final long padId;

    /**
     * @param tail token ids appended after a finished response's EOS ({@code PpoStage.rewardTail})
     * @param padId the policy's padding id (the reward model shares its tokenizer)
     */
    public RewardModelReward(LlamaModel model, long[] tail, long padId) {
        this.model = model;
        this.tail = tail.clone();
        this.padId = padId;
    }

    /** Loads {@code dir} in fp32, checked against the policy's config: one label, the same vocabulary. */
    public static LlamaModel load(Path dir, LlamaConfig policy, long seed, Device device) {
        LlamaConfig c = LlamaConfig.read(dir);
        if (!c.isSequenceClassifier() || c.numLabels() != 1) {
            throw new LoroException(dir + ": ppo.reward_model must be a *ForSequenceClassification checkpoint with one label"
                    + " (as the reward stage writes to output_dir/model), got " + c.architecture()
                    + (c.isSequenceClassifier() ? " with " + c.numLabels() + " labels" : ""));
        }
        if (c.vocabSize() != policy.vocabSize()) {
            throw new LoroException(dir + ": the reward model's vocabulary (" + c.vocabSize() + ") differs from the policy's ("
                    + policy.vocabSize() + "); it must share the policy's tokenizer");
        }
        return LlamaModel.loadAsClassifier(dir, 1, seed, DataType.FLOAT32, device);
    }

    @Override
    public double[] score(Rollout ro, NDManager m) {
        long[][] scored = ro.forRewardModel(tail, padId);
        Shape shape = new Shape(ro.batch(), ro.length() + tail.length); // (B, P + R + tail)
        NDArray ids = m.create(scored[0], shape);
        NDArray att = m.create(scored[1], shape);
        float[] rm = model.classify(model.hiddenStates(ids, att, null), att).toType(DataType.FLOAT32, false).toFloatArray();
        double[] out = new double[rm.length];
        for (int i = 0; i < rm.length; i++) {
            out[i] = rm[i];
        }
        return out;
    }
}
