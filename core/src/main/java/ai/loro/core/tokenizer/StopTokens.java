package ai.loro.core.tokenizer;

import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/**
 * The tokens a model's generation ends at: the tokenizer's EOS plus every end-of-turn marker its chat
 * template writes. A model fine-tuned through a chat template ends its answers with the template's
 * marker (Llama 3's {@code <|eot_id|>}, ChatML's {@code <|im_end|>}), which is often not the
 * tokenizer's EOS; servers only stop there when {@code generation_config.json} lists it
 * (docs/serving.md). Llama 3.x Instruct ships {@code eos_token_id: [128001, 128008, 128009]}.
 */
public final class StopTokens {
    private StopTokens() {}

    /** End-of-turn markers of common chat templates, as they appear in the template text. */
    public static final List<String> END_OF_TURN_MARKERS = List.of("<|eot_id|>", "<|eom_id|>", "<|im_end|>", "<|end|>",
            "<end_of_turn>", "<|endoftext|>", "<|end_of_text|>", "</s>");

    /**
     * The token texts generation stops at, in order: the tokenizer's EOS, then each known marker that the
     * chat template (when there is one) names and the tokenizer has as a token.
     */
    public static List<String> texts(LoroTokenizer tokenizer) {
        Set<String> out = new LinkedHashSet<>();
        if (tokenizer.eosToken() != null && tokenizer.tokenId(tokenizer.eosToken()) != null) {
            out.add(tokenizer.eosToken());
        }
        ChatTemplate template = tokenizer.chatTemplate();
        if (template != null) {
            for (String marker : END_OF_TURN_MARKERS) {
                if (template.source().contains(marker) && tokenizer.tokenId(marker) != null) {
                    out.add(marker);
                }
            }
        }
        return List.copyOf(out);
    }

    /** {@link #texts} as token ids. */
    public static List<Long> ids(LoroTokenizer tokenizer) {
        List<Long> ids = new ArrayList<>();
        for (String t : texts(tokenizer)) {
            ids.add(tokenizer.tokenId(t));
        }
        return List.copyOf(ids);
    }
}
