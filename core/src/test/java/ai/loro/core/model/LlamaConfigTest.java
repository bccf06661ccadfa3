package ai.loro.core.model;

import static org.junit.jupiter.api.Assertions.*;

import ai.loro.core.LoroException;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class LlamaConfigTest {
    @TempDir Path dir;

    @Test
    void readsLlama31Style() throws Exception {
        String json = """
            {"architectures":["LlamaForCausalLM"],"hidden_size":4096,"intermediate_size":14336,
             "num_hidden_layers":32,"num_attention_heads":32,"num_key_value_heads":8,"vocab_size":128256,
             "max_position_embeddings":131072,"rms_norm_eps":1e-5,"rope_theta":500000.0,"bos_token_id":128000,
             "eos_token_id":[128001,128008,128009],"tie_word_embeddings":false,"torch_dtype":"bfloat16",
             "rope_scaling":{"factor":8.0,"low_freq_factor":1.0,"high_freq_factor":4.0,
               "original_max_position_embeddings":8192,"rope_type":"llama3"}}""";
        Files.writeString(dir.resolve("config.json"), json);
        LlamaConfig c = LlamaConfig.read(dir);
        assertEquals(128, c.headDim());
        assertEquals(4, c.kvGroups());
        assertEquals("llama3", c.ropeScaling().type());
        assertEquals(8192, c.ropeScaling().originalMaxPositionEmbeddings());
        assertEquals(List.of(128001L, 128008L, 128009L), c.eosTokenIds());
        assertEquals(128000L, c.bosTokenId());
        assertNull(c.padTokenId());
        assertFalse(c.qkvBias());
        // 8.03B parameters, the published Llama 3.1 8B count
        assertEquals(8_030_261_248L, c.parameterCount());
    }

    @Test
    void readsTransformers5RopeParameters() {
        ObjectNode o = TinyConfigs.json(37, 16, 24, 1, 4, 2);
        o.remove("rope_theta");
        ObjectNode rp = o.putObject("rope_parameters");
        rp.put("rope_theta", 250000.0);
        rp.put("rope_type", "linear");
        rp.put("factor", 2.0);
        LlamaConfig c = TinyConfigs.parse(o);
        assertEquals(250000.0, c.ropeTheta());
        assertEquals("linear", c.ropeScaling().type());
        assertEquals(2.0, c.ropeScaling().factor());
        ObjectNode plain = TinyConfigs.json(37, 16, 24, 1, 4, 2);
        plain.putObject("rope_parameters").put("rope_theta", 1000.0).put("rope_type", "default");
        assertEquals("default", TinyConfigs.parse(plain).ropeScaling().type());
        assertEquals(1000.0, TinyConfigs.parse(plain).ropeTheta());
    }

    @Test
    void qwen2HasBiasOnQkvOnly() {
        ObjectNode o = TinyConfigs.json(37, 16, 24, 1, 4, 2);
        o.putArray("architectures").add("Qwen2ForCausalLM");
        LlamaConfig c = TinyConfigs.parse(o);
        assertTrue(c.qkvBias());
        assertFalse(c.oBias());
        assertTrue(HfNames.expectedTensors(c).containsKey("model.layers.0.self_attn.q_proj.bias"));
        assertFalse(HfNames.expectedTensors(c).containsKey("model.layers.0.self_attn.o_proj.bias"));
    }

    @Test
    void writtenConfigReadsBackEqual() {
        ObjectNode o = TinyConfigs.json(37, 16, 24, 2, 4, 2);
        o.putObject("rope_scaling").put("rope_type", "llama3").put("factor", 8.0).put("low_freq_factor", 1.0)
                .put("high_freq_factor", 4.0).put("original_max_position_embeddings", 64);
        o.put("tie_word_embeddings", true);
        o.put("attention_bias", true);
        o.put("pad_token_id", 0);
        LlamaConfig c = TinyConfigs.parse(o);
        assertEquals(c, TinyConfigs.parse(c.toJson()));
    }

    private static String error(ObjectNode o) {
        return assertThrows(LoroException.class, () -> TinyConfigs.parse(o)).getMessage();
    }

    @Test
    void refusesBadConfigsWithOneLine() {
        ObjectNode heads = TinyConfigs.json(37, 16, 24, 1, 3, 3);
        assertTrue(error(heads).contains("not divisible by num_attention_heads"), error(heads));
        ObjectNode kv = TinyConfigs.json(37, 16, 24, 1, 4, 3);
        assertTrue(error(kv).contains("num_key_value_heads"));
        ObjectNode missing = TinyConfigs.json(37, 16, 24, 1, 4, 2);
        missing.remove("hidden_size");
        assertTrue(error(missing).contains("missing required key 'hidden_size'"));
        ObjectNode arch = TinyConfigs.json(37, 16, 24, 1, 4, 2);
        arch.putArray("architectures").add("Qwen3ForCausalLM");
        assertTrue(error(arch).contains("Qwen3ForCausalLM") && error(arch).contains("allowed"));
        ObjectNode rope = TinyConfigs.json(37, 16, 24, 1, 4, 2);
        rope.putObject("rope_scaling").put("rope_type", "yarn").put("factor", 4.0);
        assertTrue(error(rope).contains("'yarn' is not supported"));
        ObjectNode type = TinyConfigs.json(37, 16, 24, 1, 4, 2);
        type.put("num_hidden_layers", "two");
        assertTrue(error(type).contains("'num_hidden_layers' must be a positive integer"));
        ObjectNode eos = TinyConfigs.json(37, 16, 24, 1, 4, 2);
        eos.put("eos_token_id", 99);
        assertTrue(error(eos).contains("eos_token_id"));
        ObjectNode act = TinyConfigs.json(37, 16, 24, 1, 4, 2);
        act.put("hidden_act", "gelu");
        assertTrue(error(act).contains("hidden_act"));
        for (String m : List.of(error(heads), error(missing), error(arch), error(rope))) {
            assertFalse(m.contains("\n"), m);
            assertTrue(m.startsWith("test config.json"), m);
        }
    }

    @Test
    void missingOrMalformedFileIsOneLineError() throws Exception {
        String m = assertThrows(LoroException.class, () -> LlamaConfig.read(dir)).getMessage();
        assertTrue(m.contains("config.json not found"), m);
        Files.writeString(dir.resolve("config.json"), "{\"hidden_size\": 16,");
        m = assertThrows(LoroException.class, () -> LlamaConfig.read(dir)).getMessage();
        assertTrue(m.contains("not valid JSON") && !m.contains("\n"), m);
        Files.writeString(dir.resolve("config.json"), "[1,2]");
        assertThrows(LoroException.class, () -> LlamaConfig.read(dir));
    }
}
