package ai.loro.lora;

import static ai.loro.lora.Peft.*;

import java.util.ArrayList;
import java.util.List;
import java.util.Set;

/** What vLLM and Ollama / llama.cpp will refuse or treat differently in an adapter with this config (docs/serving.md). */
final class ServingWarnings {
    private ServingWarnings() {}

    /** Warnings for vLLM and Ollama/llama.cpp about an adapter with this config. */
    static List<String> of(LoraConfig c) {
        List<String> w = new ArrayList<>();
        int max = c.maxRank();
        Set<Integer> ranks = new java.util.TreeSet<>(c.rankPattern().values());
        ranks.add(c.r());
        for (int r : ranks) {
            if (r > VLLM_MAX_LORA_RANKS.get(VLLM_MAX_LORA_RANKS.size() - 1)) {
                w.add("vLLM: rank " + r + " is above the largest max_lora_rank vLLM supports ("
                        + VLLM_MAX_LORA_RANKS.get(VLLM_MAX_LORA_RANKS.size() - 1) + "); vLLM will refuse this adapter");
            } else if (!VLLM_MAX_LORA_RANKS.contains(r)) {
                w.add("vLLM: rank " + r + " is not one of vLLM's max_lora_rank values " + VLLM_MAX_LORA_RANKS
                        + "; it loads under any --max-lora-rank >= " + r + " (smallest: " + nextVllmRank(r) + ")"
                        + (r <= VLLM_DEFAULT_MAX_LORA_RANK ? ", which the default " + VLLM_DEFAULT_MAX_LORA_RANK + " covers" : ""));
            }
        }
        if (max > VLLM_DEFAULT_MAX_LORA_RANK && max <= 512) {
            w.add("vLLM: rank " + max + " is greater than vLLM's default max_lora_rank " + VLLM_DEFAULT_MAX_LORA_RANK
                    + "; start vLLM with --max-lora-rank " + nextVllmRank(max));
        }
        if (!c.biasMode().equals("none")) {
            w.add("vLLM: bias '" + c.biasMode() + "' is refused (\"Adapter bias is not supported.\")");
        }
        if (!c.rankPattern().isEmpty() || !c.alphaPattern().isEmpty()) {
            w.add("vLLM: rank_pattern/alpha_pattern give modules their own scale; vLLM applies one lora_alpha/r to every module");
        }
        if (!c.alphaPattern().isEmpty()) {
            w.add("Ollama/llama.cpp: alpha_pattern is ignored (one lora_alpha for every module)");
        }
        if (c.useRslora()) {
            w.add("Ollama/llama.cpp: use_rslora is ignored (they scale by lora_alpha/r); to reproduce lora_alpha/sqrt(r) "
                    + "convert with lora_alpha = " + PeftWriter.number(c.alpha() * Math.sqrt(c.r())) + " (lora_alpha·sqrt(r); loro export gguf-lora does)");
        }
        return w;
    }

    private static int nextVllmRank(int r) {
        for (int v : VLLM_MAX_LORA_RANKS) {
            if (v >= r) {
                return v;
            }
        }
        return r;
    }
}
