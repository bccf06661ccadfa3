package ai.loro.core.model;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The one place that knows Hugging Face state-dict names (docs/llama-math.md). Everything that reads,
 * writes, adapts or exports parameters goes through these names, so a checkpoint written here is a
 * checkpoint transformers, PEFT, vLLM and llama.cpp read.
 */
public final class HfNames {
    private HfNames() {}

    public static final String EMBED = "model.embed_tokens.weight";
    public static final String FINAL_NORM = "model.norm.weight";
    public static final String LM_HEAD = "lm_head.weight";
    /** LlamaForSequenceClassification's head: {@code score.weight} [num_labels, hidden], no bias (docs/llama-math.md, "Sequence classification"). */
    public static final String SCORE = "score.weight";

    /** The linear projections of one decoder layer, by their HF module name (PEFT target_modules). */
    public enum Proj {
        Q("self_attn.q_proj"), K("self_attn.k_proj"), V("self_attn.v_proj"), O("self_attn.o_proj"),
        GATE("mlp.gate_proj"), UP("mlp.up_proj"), DOWN("mlp.down_proj");

        public final String path;

        Proj(String path) {
            this.path = path;
        }

        /** The short module name, e.g. {@code q_proj}. */
        public String shortName() {
            return path.substring(path.indexOf('.') + 1);
        }

        public int outFeatures(LlamaConfig c) {
            return switch (this) {
                case Q -> c.numAttentionHeads() * c.headDim();
                case K, V -> c.numKeyValueHeads() * c.headDim();
                case O, DOWN -> c.hiddenSize();
                case GATE, UP -> c.intermediateSize();
            };
        }

        public int inFeatures(LlamaConfig c) {
            return switch (this) {
                case O -> c.numAttentionHeads() * c.headDim();
                case DOWN -> c.intermediateSize();
                default -> c.hiddenSize();
            };
        }

        public boolean hasBias(LlamaConfig c) {
            return switch (this) {
                case Q, K, V -> c.qkvBias();
                case O -> c.oBias();
                default -> c.mlpBias();
            };
        }
    }

    public static String layerPrefix(int layer) {
        return "model.layers." + layer + ".";
    }

    /** e.g. {@code model.layers.3.self_attn.q_proj} (the module path, without ".weight"). */
    public static String module(int layer, Proj p) {
        return layerPrefix(layer) + p.path;
    }

    public static String weight(int layer, Proj p) {
        return module(layer, p) + ".weight";
    }

    public static String bias(int layer, Proj p) {
        return module(layer, p) + ".bias";
    }

    public static String inputNorm(int layer) {
        return layerPrefix(layer) + "input_layernorm.weight";
    }

    public static String postAttentionNorm(int layer) {
        return layerPrefix(layer) + "post_attention_layernorm.weight";
    }

    /**
     * Every tensor a causal LM checkpoint of this shape holds, with its shape, in the order
     * transformers' state dict lists them. {@code lm_head.weight} is absent when the head is tied;
     * a sequence classifier has {@code score.weight} instead.
     */
    public static Map<String, long[]> expectedTensors(LlamaConfig c) {
        Map<String, long[]> out = new LinkedHashMap<>();
        out.put(EMBED, new long[] {c.vocabSize(), c.hiddenSize()});
        for (int l = 0; l < c.numHiddenLayers(); l++) {
            out.put(inputNorm(l), new long[] {c.hiddenSize()});
            for (Proj p : Proj.values()) {
                if (p == Proj.GATE) {
                    out.put(postAttentionNorm(l), new long[] {c.hiddenSize()});
                }
                out.put(weight(l, p), new long[] {p.outFeatures(c), p.inFeatures(c)});
                if (p.hasBias(c)) {
                    out.put(bias(l, p), new long[] {p.outFeatures(c)});
                }
            }
        }
        out.put(FINAL_NORM, new long[] {c.hiddenSize()});
        if (c.isSequenceClassifier()) {
            out.put(SCORE, new long[] {c.numLabels(), c.hiddenSize()});
        } else if (!c.tieWordEmbeddings()) {
            out.put(LM_HEAD, new long[] {c.vocabSize(), c.hiddenSize()});
        }
        return out;
    }
}
