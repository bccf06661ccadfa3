package ai.loro.datasets;

import ai.loro.core.tokenizer.ChatMessage;
import ai.loro.core.tokenizer.ChatTemplate;
import ai.loro.core.tokenizer.LoroTokenizer;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/** Where an assistant turn's trained tokens start and end in a rendered chat (SFT and preference encoders). */
public final class TurnBoundaries {
    private TurnBoundaries() {}

    /** End-of-turn markers of common chat templates; those the tokenizer knows end a trained span. */
    public static final List<String> END_OF_TURN = List.of("<|eot_id|>", "<|im_end|>", "<|end|>", "<end_of_turn>",
            "<|endoftext|>", "<|end_of_text|>", "</s>", "<|eom_id|>");

    /** A piece of the render and whether its tokens carry loss. */
    record Piece(String text, boolean train) {}

    /** The tokenizer's EOS and every known end-of-turn marker it has as a token. */
    public static List<String> endOfTurnTokens(LoroTokenizer tokenizer) {
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
        int end = endOfTurn(part, tailStart, endOfTurnTokens);
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

    /**
     * The text the encoders keep after a final assistant turn's end-of-turn marker: the blank rest a
     * template renders there (ChatML's {@code "\n"} after {@code <|im_end|>}; nothing for Llama 3),
     * or "" when the rest is not blank (then it is dropped, see {@link #splitAssistant}). A reward
     * model trained on such encodings reads its score at the rest's last token, so PPO appends this
     * to rollouts that stopped at EOS before the reward model scores them.
     */
    public static String finalTurnTail(ChatTemplate template, Map<String, Object> vars, List<String> endOfTurnTokens) {
        String marker = "\u0001reply\u0002";
        String full = template.render(List.of(ChatMessage.user("q"), ChatMessage.assistant(marker)), false, vars);
        int k = full.indexOf(marker);
        if (k < 0) {
            return "";
        }
        int end = endOfTurn(full, k + marker.length(), endOfTurnTokens);
        if (end < 0) {
            return "";
        }
        String rest = full.substring(end);
        return rest.isBlank() ? rest : "";
    }

    /** {@link #finalTurnTail} tokenized (no special tokens added); empty when the template adds nothing. */
    public static long[] finalTurnTailIds(ChatTemplate template, LoroTokenizer tokenizer) {
        String tail = finalTurnTail(template, new java.util.HashMap<>(tokenizer.specialTokensMap()), endOfTurnTokens(tokenizer));
        return tail.isEmpty() ? new long[0] : tokenizer.encode(tail, false);
    }

    /** Where the first end-of-turn marker at or after {@code from} ends (the earliest end wins), or -1. */
    private static int endOfTurn(String text, int from, List<String> endOfTurnTokens) {
        int end = -1;
        for (String t : endOfTurnTokens) {
            int at = text.indexOf(t, from);
            if (at >= 0 && (end < 0 || at + t.length() < end)) {
                end = at + t.length();
            }
        }
        return end;
    }
}
