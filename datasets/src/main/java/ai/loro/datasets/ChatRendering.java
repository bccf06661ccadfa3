package ai.loro.datasets;

import ai.loro.core.LoroException;
import ai.loro.core.tokenizer.ChatMessage;
import ai.loro.core.tokenizer.ChatTemplate;
import ai.loro.core.tokenizer.LoroTokenizer;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/** What both encoders need to render a chat and find its tokens: the template, its variables, BOS and end-of-turn markers. */
final class ChatRendering {
    final ChatTemplate template; // null: the tokenizer has none (reported when a chat is rendered)
    final Map<String, Object> vars;
    final Long bosToPrepend; // the tokenizer's BOS when encoding with special tokens adds one, else null
    final List<String> endOfTurnTokens;
    private final LoroTokenizer tokenizer;
    private final EncodeOptions options;

    ChatRendering(LoroTokenizer tokenizer, EncodeOptions options) {
        this.tokenizer = tokenizer;
        this.options = options;
        ChatTemplate t = options.template();
        if (t == null) {
            try {
                t = tokenizer.chatTemplate();
            } catch (LoroException e) {
                t = null; // reported when a chat is rendered
            }
        }
        this.template = t;
        Map<String, Object> v = new HashMap<>(tokenizer.specialTokensMap());
        v.putAll(options.templateVariables());
        this.vars = v;
        this.bosToPrepend = Bos.toPrepend(tokenizer);
        this.endOfTurnTokens = TurnBoundaries.endOfTurnTokens(tokenizer);
    }

    String render(List<ChatMessage> msgs, boolean generationPrompt) {
        if (template != null) {
            return template.render(msgs, generationPrompt, vars);
        }
        return tokenizer.applyChatTemplate(msgs, generationPrompt, options.templateVariables()); // throws: no template
    }

    /** Appends each piece's tokens (no special tokens) to {@code ids}, with loss where the piece trains or train_on_inputs is set. */
    void encodePieces(List<TurnBoundaries.Piece> pieces, List<Long> ids, List<Boolean> mask) {
        for (TurnBoundaries.Piece piece : pieces) {
            if (piece.text().isEmpty()) {
                continue;
            }
            for (long id : tokenizer.encode(piece.text(), false)) {
                ids.add(id);
                mask.add(piece.train() || options.trainOnInputs());
            }
        }
    }

    /**
     * Where the render tokenized whole ({@code whole}) and the pieces' tokens ({@code n} of them,
     * token k = {@code mine(k)}) first differ, or the shorter one's length when one is a prefix of the
     * other; -1 when they are the same.
     */
    static int firstMismatch(long[] whole, int n, java.util.function.IntToLongFunction mine) {
        int common = Math.min(whole.length, n);
        for (int k = 0; k < common; k++) {
            if (whole[k] != mine.applyAsLong(k)) {
                return k;
            }
        }
        return whole.length == n ? -1 : common;
    }

    String templateName() {
        return template != null ? template.name() : "chat template";
    }

    static String quote(String s) {
        return "\"" + s.replace("\n", "\\n").replace("\r", "\\r") + "\"";
    }
}
