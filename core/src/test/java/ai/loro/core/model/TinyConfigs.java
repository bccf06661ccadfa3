package ai.loro.core.model;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;

/** Small model shapes for tests. */
public final class TinyConfigs {
    private TinyConfigs() {}

    /** A config.json object for a tiny Llama; callers adjust fields before parsing. */
    public static ObjectNode json(int vocab, int hidden, int inter, int layers, int heads, int kvHeads) {
        ObjectNode o = new ObjectMapper().createObjectNode();
        o.putArray("architectures").add("LlamaForCausalLM");
        o.put("vocab_size", vocab);
        o.put("hidden_size", hidden);
        o.put("intermediate_size", inter);
        o.put("num_hidden_layers", layers);
        o.put("num_attention_heads", heads);
        o.put("num_key_value_heads", kvHeads);
        o.put("rms_norm_eps", 1e-5);
        o.put("rope_theta", 10000.0);
        o.put("max_position_embeddings", 128);
        o.put("bos_token_id", 1);
        o.put("eos_token_id", 2);
        o.put("initializer_range", 0.2);
        return o;
    }

    public static LlamaConfig parse(ObjectNode json) {
        return LlamaConfig.parse(json, "test config.json");
    }

    /** vocab 37, hidden 16, 2 layers, 4 heads over 2 kv heads (GQA), head_dim 4. */
    public static LlamaConfig gqa() {
        return parse(json(37, 16, 24, 2, 4, 2));
    }
}
