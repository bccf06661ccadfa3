package ai.loro.rlhf;

import static org.junit.jupiter.api.Assertions.*;

import ai.djl.Device;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.loro.core.LoroException;
import ai.loro.core.model.LlamaConfig;
import ai.loro.core.model.LlamaModel;
import ai.loro.core.model.ModelInit;
import ai.loro.core.model.ModelWriter;
import ai.loro.core.tokenizer.LoroTokenizer;
import ai.loro.core.tokenizer.TinyTokenizers;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A classifier's label probability as a PPO reward: checked against the classifier's own logits. */
class ClassifierRewardTest {
    @TempDir Path dir;

    private Path classifier(int labels) throws Exception {
        Path tok = dir.resolve("tok");
        TinyTokenizers.writeByteLevel(tok, "chatml");
        LlamaConfig causal = LlamaConfig.parse(new ObjectMapper().readTree("{\"architectures\":[\"LlamaForCausalLM\"],"
                + "\"vocab_size\":264,\"hidden_size\":32,\"intermediate_size\":64,\"num_hidden_layers\":2,"
                + "\"num_attention_heads\":4,\"num_key_value_heads\":2,\"bos_token_id\":256,\"eos_token_id\":263,"
                + "\"pad_token_id\":258,\"tie_word_embeddings\":true,\"initializer_range\":0.3}"), "test");
        LlamaConfig c = causal.asSequenceClassifier(labels);
        Path out = dir.resolve("cls" + labels);
        try (LlamaModel m = LlamaModel.fromHost(c, ModelInit.randomWeights(c, 5), DataType.FLOAT32, Device.cpu())) {
            ModelWriter.save(out, c, m.parameters(), "F32", tok);
        }
        if (labels == 2) { // names as a classifier trained with reward.labels carries them
            ObjectMapper json = new ObjectMapper();
            ObjectNode cfg = (ObjectNode) json.readTree(out.resolve("config.json").toFile());
            cfg.putObject("id2label").put("0", "negative").put("1", "positive");
            Files.writeString(out.resolve("config.json"), cfg.toPrettyString());
        }
        return out;
    }

    @Test
    void rewardIsTheLabelsSoftmaxProbability() throws Exception {
        Path cls = classifier(2);
        String reply = "What a lovely day.";
        double[] expected = new double[2];
        try (LlamaModel m = LlamaModel.load(cls, DataType.FLOAT32, Device.cpu()); LoroTokenizer tok = LoroTokenizer.load(cls);
             NDManager nd = m.manager().newSubManager()) {
            long[] ids = tok.encode(reply, true);
            var x = nd.create(ids, new Shape(1, ids.length));
            var mask = nd.ones(new Shape(1, ids.length), DataType.INT64);
            float[] logits = m.classify(m.hiddenStates(x, mask, null), mask).toFloatArray();
            double z = Math.log(Math.exp(logits[0]) + Math.exp(logits[1]));
            expected[0] = Math.exp(logits[0] - z);
            expected[1] = Math.exp(logits[1] - z);
        }
        try (ClassifierReward pos = new ClassifierReward(cls, "positive"); ClassifierReward neg = new ClassifierReward(cls, "0")) {
            assertEquals("positive", pos.labelName());
            assertEquals("negative", neg.labelName());
            double p = pos.score("ignored prompt", reply, null);
            double q = neg.score("another prompt", reply, null);
            assertEquals(expected[1], p, 1e-6);
            assertEquals(expected[0], q, 1e-6);
            assertEquals(1.0, p + q, 1e-6);
            assertEquals(0.0, pos.score("p", "", null), "an empty reply scores 0");
        }
    }

    @Test
    void badClassifierOrLabelIsOneLine() throws Exception {
        Path cls = classifier(2);
        LoroException e = assertThrows(LoroException.class, () -> new ClassifierReward(cls, "neutral"));
        assertTrue(e.getMessage().contains("[negative, positive]") && !e.getMessage().contains("\n"), e.getMessage());
        assertThrows(LoroException.class, () -> new ClassifierReward(cls, "2"));
        assertTrue(assertThrows(LoroException.class, () -> new ClassifierReward(cls, null)).getMessage()
                .contains("needs ppo.reward_classifier_label"));
        Path rm = classifier(1);
        assertTrue(assertThrows(LoroException.class, () -> new ClassifierReward(rm, "0")).getMessage()
                .contains("use ppo.reward_model"));
    }
}
