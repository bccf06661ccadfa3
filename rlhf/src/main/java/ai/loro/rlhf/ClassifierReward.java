package ai.loro.rlhf;

import ai.loro.core.model.BatchScoring;
import ai.djl.Device;
import ai.djl.ndarray.types.DataType;
import ai.loro.core.LoroException;
import ai.loro.core.model.LlamaConfig;
import ai.loro.core.model.LlamaModel;
import ai.loro.core.tokenizer.LoroTokenizer;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * A classifier's score as a PPO reward (TRL's sentiment example: a sentiment classifier's output
 * for "positive" rewards the policy): the softmax probability of one label, from a
 * {@code *ForSequenceClassification} checkpoint with two or more labels (what the reward stage's
 * classifier mode writes). The response text alone is classified, tokenized with special tokens as
 * the classifier stage tokenizes its training texts; an empty response scores 0.
 */
public final class ClassifierReward implements RewardFunction, AutoCloseable {
    private final LlamaModel model;
    private final LoroTokenizer tokenizer;
    private final int label;
    private final String labelName;

    public ClassifierReward(Path dir, String label) {
        this(dir, label, Device.cpu());
    }

    /** As {@link #ClassifierReward(Path, String)}, the classifier on {@code device}. */
    public ClassifierReward(Path dir, String label, Device device) {
        LlamaConfig c = LlamaConfig.read(dir);
        if (!c.isSequenceClassifier() || c.numLabels() < 2) {
            throw new LoroException(dir + ": ppo.reward_classifier must be a *ForSequenceClassification checkpoint with two or"
                    + " more labels (the reward stage with reward.num_labels > 1), got " + c.architecture()
                    + (c.isSequenceClassifier() ? " with 1 label (a reward model: use ppo.reward_model)" : ""));
        }
        List<String> names = labelNames(dir, c.numLabels());
        this.label = labelIndex(dir, label, names);
        this.labelName = names.get(this.label);
        this.model = LlamaModel.load(dir, DataType.FLOAT32, device);
        try {
            this.tokenizer = LoroTokenizer.load(dir);
        } catch (RuntimeException e) {
            model.close();
            throw e;
        }
    }

    /** config.json's id2label names in index order ("LABEL_i" where a name is missing). */
    static List<String> labelNames(Path dir, int n) {
        List<String> names = new ArrayList<>();
        JsonNode id2label;
        try {
            id2label = new ObjectMapper().readTree(dir.resolve("config.json").toFile()).path("id2label");
        } catch (IOException e) {
            throw new LoroException(dir.resolve("config.json") + ": cannot read: " + e.getMessage(), e);
        }
        for (int i = 0; i < n; i++) {
            JsonNode v = id2label.get(String.valueOf(i));
            names.add(v != null && v.isTextual() ? v.asText() : "LABEL_" + i);
        }
        return names;
    }

    /** A label name from id2label, or an index 0..n-1. */
    static int labelIndex(Path dir, String label, List<String> names) {
        if (label == null) {
            throw new LoroException("ppo.reward_classifier needs ppo.reward_classifier_label: one of " + names
                    + " (or an index 0.." + (names.size() - 1) + ")");
        }
        int at = names.indexOf(label);
        if (at >= 0) {
            return at;
        }
        try {
            int i = Integer.parseInt(label.trim());
            if (i >= 0 && i < names.size()) {
                return i;
            }
        } catch (NumberFormatException e) {
            // not an index either
        }
        throw new LoroException("ppo.reward_classifier_label '" + label + "' is not a label of " + dir + ": one of " + names
                + " (or an index 0.." + (names.size() - 1) + ")");
    }

    public String labelName() {
        return labelName;
    }

    @Override
    public double score(String prompt, String response, String answer) {
        long[] ids = tokenizer.encode(response, true);
        if (response.isEmpty() || ids.length == 0) {
            return 0;
        }
        float[] logits = BatchScoring.classify(model, List.of(ids), 1)[0];
        double max = Double.NEGATIVE_INFINITY;
        for (float v : logits) {
            max = Math.max(max, v);
        }
        double sum = 0;
        for (float v : logits) {
            sum += Math.exp(v - max);
        }
        return Math.exp(logits[label] - max) / sum; // softmax, shifted by the max for range
    }

    @Override
    public void close() {
        model.close();
        tokenizer.close();
    }
}
