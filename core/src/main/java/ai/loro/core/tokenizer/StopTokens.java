package ai.loro.core.tokenizer;

import ai.loro.core.LoroException;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/**
 * The tokens a model's generation ends at: the tokenizer's EOS plus every end-of-turn marker its chat
 * template writes. A model fine-tuned through a chat template ends its answers with the template's
 * marker (Llama 3's {@code <|eot_id|>}, ChatML's {@code <|im_end|>}), which is often not the
 * tokenizer's EOS; servers only stop there when {@code generation_config.json} lists it
 * (docs/generation-config.md). Llama 3.x Instruct ships {@code eos_token_id: [128001, 128008, 128009]}.
 */
public final class StopTokens {
    private StopTokens() {}

    /** End-of-turn markers of common chat templates, as they appear in the template text. */
    public static final List<String> END_OF_TURN_MARKERS = List.of("<|eot_id|>", "<|eom_id|>", "<|im_end|>", "<|end|>",
            "<end_of_turn>", "<|endoftext|>", "<|end_of_text|>", "</s>");

    /**
     * The token texts generation stops at, in order: the tokenizer's EOS, then each known marker that the
     * chat template (when there is one) names and the tokenizer has as a token. A tokenizer with only named
     * templates and no "default" one contributes the markers of all of them.
     */
    public static List<String> texts(LoroTokenizer tokenizer) {
        List<ChatTemplate> templates = new ArrayList<>();
        try {
            if (tokenizer.chatTemplate() != null) {
                templates.add(tokenizer.chatTemplate());
            }
        } catch (LoroException noDefault) {
            templates.addAll(tokenizer.namedChatTemplates().values());
        }
        return texts(tokenizer, templates);
    }

    /** {@link #texts(LoroTokenizer)} for prompts rendered through {@code template} (e.g. a built-in one) instead. */
    public static List<String> texts(LoroTokenizer tokenizer, ChatTemplate template) {
        return texts(tokenizer, template == null ? List.of() : List.of(template));
    }

    private static List<String> texts(LoroTokenizer tokenizer, List<ChatTemplate> templates) {
        Set<String> out = new LinkedHashSet<>();
        if (tokenizer.eosToken() != null && tokenizer.tokenId(tokenizer.eosToken()) != null) {
            out.add(tokenizer.eosToken());
        }
        for (String marker : END_OF_TURN_MARKERS) {
            for (ChatTemplate template : templates) {
                if (template.source().contains(marker) && tokenizer.tokenId(marker) != null) {
                    out.add(marker);
                }
            }
        }
        return List.copyOf(out);
    }

    /** {@link #texts(LoroTokenizer)} as token ids. */
    public static List<Long> ids(LoroTokenizer tokenizer) {
        return toIds(tokenizer, texts(tokenizer));
    }

    /** {@link #texts(LoroTokenizer, ChatTemplate)} as token ids. */
    public static List<Long> ids(LoroTokenizer tokenizer, ChatTemplate template) {
        return toIds(tokenizer, texts(tokenizer, template));
    }

    private static List<Long> toIds(LoroTokenizer tokenizer, List<String> texts) {
        List<Long> ids = new ArrayList<>();
        for (String t : texts) {
            ids.add(tokenizer.tokenId(t));
        }
        return List.copyOf(ids);
    }
}
