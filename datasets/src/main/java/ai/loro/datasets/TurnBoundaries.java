package ai.loro.datasets;

import ai.loro.core.tokenizer.LoroTokenizer;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/** Where an assistant turn's trained tokens start and end in a rendered chat (SFT and preference encoders). */
final class TurnBoundaries {
    private TurnBoundaries() {}

    /** End-of-turn markers of common chat templates; those the tokenizer knows end a trained span. */
    static final List<String> END_OF_TURN = List.of("<|eot_id|>", "<|im_end|>", "<|end|>", "<end_of_turn>",
            "<|endoftext|>", "<|end_of_text|>", "</s>", "<|eom_id|>");

    /** A piece of the render and whether its tokens carry loss. */
    record Piece(String text, boolean train) {}

    /** The tokenizer's EOS and every known end-of-turn marker it has as a token. */
    static List<String> endOfTurnTokens(LoroTokenizer tokenizer) {
        Set<String> eot = new LinkedHashSet<>();
        if (tokenizer.eosToken() != null) {
            eot.add(tokenizer.eosToken());
        }
        for (String marker : END_OF_TURN) {
            if (tokenizer.tokenId(marker) != null) {
                eot.add(marker);
            }
        }
        return List.copyOf(eot);
    }

    /**
     * Splits the assistant part of the render into an untrained prefix, the trained content + end of
     * turn, and an untrained rest; returns the length of the part used. For the final message a non-blank
     * rest (e.g. the assistant header the original Llama 3 template always appends) is
     * left out.
     */
    static int splitAssistant(String part, String content, List<Piece> pieces, boolean finalMessage,
                              List<String> endOfTurnTokens) {
        String needle = content;
        int k = needle.isEmpty() ? -1 : part.indexOf(needle);
        if (k < 0) {
            needle = content.strip();
            k = needle.isEmpty() ? -1 : part.indexOf(needle);
        }
        int tailStart;
        if (k >= 0) {
            pieces.add(new Piece(part.substring(0, k), false));
            tailStart = k + needle.length();
        } else {
            tailStart = 0;
        }
        int end = -1;
        for (String t : endOfTurnTokens) {
            int at = part.indexOf(t, tailStart);
            if (at >= 0 && (end < 0 || at + t.length() < end)) {
                end = at + t.length();
            }
        }
        if (end < 0) {
            end = part.length();
        }
        pieces.add(new Piece(part.substring(k >= 0 ? k : 0, end), true));
        String rest = part.substring(end);
        if (finalMessage && !rest.isBlank()) {
            return end;
        }
        pieces.add(new Piece(rest, false));
        return part.length();
    }

}
