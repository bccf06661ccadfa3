package ai.loro.export;

import ai.loro.core.LoroException;
import ai.loro.core.model.HfNames;
import ai.loro.core.model.LlamaConfig;

/**
 * Hugging Face parameter names → llama.cpp's GGUF tensor names (docs/gguf.md, "Tensor names"), and
 * the q/k row permutation the "llama" architecture needs: transformers rotates halves of each head
 * (rotate_half), llama.cpp rotates adjacent pairs, so the rows of q_proj / k_proj (and their biases
 * and LoRA B) are reordered per head: new row {@code h·hd + 2i + t} = old row {@code h·hd + t·hd/2 + i}.
 * Qwen2 runs with the rotate-half (NEOX) rope in llama.cpp, the HF layout itself: no permutation.
 */
final class GgufNames {
    private GgufNames() {}

    /** llama.cpp's architecture name for a config, or a one-line error. */
    static String architecture(LlamaConfig c, String where) {
        if (c.isSequenceClassifier()) {
            throw new LoroException(where + ": " + c.architecture() + " is a reward model / classifier (a score head);"
                    + " llama.cpp's llama and qwen2 architectures have no score head, so it cannot be exported to GGUF");
        }
        return switch (c.architecture()) {
            case "LlamaForCausalLM", "MistralForCausalLM" -> "llama";
            case "Qwen2ForCausalLM" -> "qwen2";
            default -> throw new LoroException(where + ": architecture " + c.architecture()
                    + " has no GGUF export (LlamaForCausalLM, MistralForCausalLM, Qwen2ForCausalLM)");
        };
    }

    /** The GGUF name of an HF tensor name (".weight"/".bias" kept). */
    static String of(String hf) {
        switch (hf) {
            case HfNames.EMBED:
                return "token_embd.weight";
            case HfNames.FINAL_NORM:
                return "output_norm.weight";
            case HfNames.LM_HEAD:
                return "output.weight";
            default:
                break;
        }
        if (!hf.startsWith("model.layers.")) {
            throw new IllegalArgumentException("no GGUF name for " + hf);
        }
        String rest = hf.substring("model.layers.".length());
        int dot = rest.indexOf('.');
        String layer = rest.substring(0, dot);
        String leaf = rest.substring(dot + 1);
        String suffix = leaf.substring(leaf.lastIndexOf('.'));
        String module = leaf.substring(0, leaf.lastIndexOf('.'));
        String name = switch (module) {
            case "input_layernorm" -> "attn_norm";
            case "post_attention_layernorm" -> "ffn_norm";
            case "self_attn.q_proj" -> "attn_q";
            case "self_attn.k_proj" -> "attn_k";
            case "self_attn.v_proj" -> "attn_v";
            case "self_attn.o_proj" -> "attn_output";
            case "mlp.gate_proj" -> "ffn_gate";
            case "mlp.up_proj" -> "ffn_up";
            case "mlp.down_proj" -> "ffn_down";
            default -> throw new IllegalArgumentException("no GGUF name for " + hf);
        };
        return "blk." + layer + "." + name + suffix;
    }

    /** The GGUF name of a projection's weight. */
    static String weight(int layer, HfNames.Proj p) {
        return of(HfNames.weight(layer, p));
    }

    /**
     * The number of heads whose rows are permuted for {@code hf} in architecture {@code arch}: q_proj
     * by attention heads, k_proj by KV heads; 0 when the tensor is left as it is.
     */
    static int permutedHeads(String arch, String hf, LlamaConfig c) {
        if (!arch.equals("llama")) {
            return 0;
        }
        if (hf.contains(".self_attn.q_proj.")) {
            return c.numAttentionHeads();
        }
        if (hf.contains(".self_attn.k_proj.")) {
            return c.numKeyValueHeads();
        }
        return 0;
    }

    /**
     * Reorders the rows of a row-major [rows, cols] matrix (cols = 1 for a bias) from transformers'
     * rotate-half layout to llama.cpp's adjacent pairs, per head of {@code rows / heads} rows.
     */
    static float[] permuteRows(float[] w, int heads, int rows, int cols) {
        if (heads == 0) {
            return w;
        }
        int hd = rows / heads;
        int half = hd / 2;
        float[] out = new float[w.length];
        for (int h = 0; h < heads; h++) {
            for (int i = 0; i < half; i++) {
                for (int t = 0; t < 2; t++) {
                    int newRow = h * hd + 2 * i + t;
                    int oldRow = h * hd + t * half + i;
                    System.arraycopy(w, oldRow * cols, out, newRow * cols, cols);
                }
            }
        }
        return out;
    }
}
