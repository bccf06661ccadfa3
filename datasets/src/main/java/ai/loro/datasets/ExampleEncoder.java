package ai.loro.datasets;

import ai.loro.core.LoroException;
import ai.loro.core.tokenizer.ChatMessage;
import ai.loro.core.tokenizer.ChatTemplate;
import ai.loro.core.tokenizer.LoroTokenizer;
import java.util.ArrayList;
import java.util.Arrays;
import ai.loro.datasets.TurnBoundaries.Piece;
import java.util.List;

/**
 * Samples to token ids and loss masks.
 *
 * <p>Conversations are rendered through the chat template. Assistant turns are found by rendering
 * prefixes: for assistant message i, {@code render(messages[0..i), add_generation_prompt=true)} ends
 * with the assistant header and {@code render(messages[0..i])} adds the assistant content and its
 * end-of-turn text; the difference is the assistant part. The trained part is the content and the
 * text up to and including the first end-of-turn token after it (e.g. {@code <|eot_id|>},
 * {@code <|im_end|>} or the EOS token; the "\n" ChatML puts after {@code <|im_end|>} is not trained).
 * Each piece is tokenized on its own and the concatenation is checked against tokenizing the whole
 * render: a template whose prefixes are not prefixes of the full render fails with a {@link
 * LoroException} for the data set; a token mismatch at a piece boundary fails the row (see {@link
 * EncodeOptions#strictBoundaries()}).
 *
 * <p>BOS: when the tokenizer adds BOS to encoded text and the render does not start with it (e.g. the
 * alpaca template), it is prepended. EOS: appended with loss when the render (trailing whitespace
 * aside) does not end with it and the last message is the assistant's (or for plain text). Examples
 * longer than sequence_len are truncated, and examples without any trained token are dropped; both
 * are counted in {@link #stats()}.
 *
 * <p>When the conversation ends with an assistant message, non-blank text the template renders after
 * that turn's end-of-turn token (e.g. the assistant header the original Llama 3 template appends even
 * without add_generation_prompt) is left out.
 */
public final class ExampleEncoder {

    private final LoroTokenizer tokenizer;
    private final EncodeOptions options;
    private final ChatRendering chat;
    private final boolean alpacaTemplate;
    private final EncodeStats stats = new EncodeStats();

    public ExampleEncoder(LoroTokenizer tokenizer, EncodeOptions options) {
        this.tokenizer = tokenizer;
        this.options = options;
        this.chat = new ChatRendering(tokenizer, options);
        this.alpacaTemplate = chat.template != null && chat.template.source().equals(ChatTemplate.builtin("alpaca").source());
    }

    public EncodeOptions options() {
        return options;
    }

    /** Counts over all calls of {@link #encode}. */
    public EncodeStats stats() {
        return stats;
    }

    /** Encodes samples; rows that fail (e.g. a token boundary mismatch) throw or are skipped by {@code bad}. */
    public List<Example> encodeAll(List<? extends Sample> samples, BadRows bad) {
        return bad.encodeEach(samples, this::encode);
    }

    /** Tokenizes and truncates one sample; null when it has no trained token (counted). */
    public Example encode(Sample s) {
        return accept(tokenize(s));
    }

    /** Counts, truncates and possibly drops an example from {@link #tokenize}; null when dropped. */
    public Example accept(Example full) {
        stats.encoded++;
        Example e = truncate(full);
        if (e == null) {
            stats.droppedNoTrainable++;
            return null;
        }
        stats.kept++;
        stats.keptTokens += e.length();
        stats.trainableTokens += e.trainableTokens();
        return e;
    }

    /** Cuts to sequence_len (counted); null when no trained token is left. Does not count drops. */
    Example truncate(Example full) {
        int max = options.sequenceLen();
        Example e = full;
        if (full.length() > max) {
            stats.truncatedExamples++;
            stats.truncatedTokens += full.length() - max;
            e = new Example(Arrays.copyOf(full.inputIds(), max), Arrays.copyOf(full.lossMask(), max), full.source());
        }
        return e.trainableTokens() == 0 ? null : e;
    }

    /** The full (untruncated) example of a sample. */
    public Example tokenize(Sample s) {
        if (s instanceof PlainText p) {
            return plainText(p);
        }
        return conversation((Conversation) s);
    }

    private Example plainText(PlainText p) {
        long[] ids = tokenizer.encode(p.text(), true);
        Long eos = tokenizer.eosId();
        if (options.appendEos() && eos != null && (ids.length == 0 || ids[ids.length - 1] != eos)) {
            ids = Arrays.copyOf(ids, ids.length + 1);
            ids[ids.length - 1] = eos;
        }
        boolean[] mask = new boolean[ids.length];
        Arrays.fill(mask, true);
        if (mask.length > 0) {
            mask[0] = false;
        }
        return new Example(ids, mask, p.source());
    }

    private String render(List<ChatMessage> msgs, boolean generationPrompt) {
        return chat.render(msgs, generationPrompt);
    }

    private String templateName() {
        return chat.templateName();
    }

    /** A text piece of the render and whether it is trained. */

    private Example conversation(Conversation c) {
        Conversation conv = alpacaTemplate ? c : c.withInputsMerged();
        List<ChatMessage> msgs = conv.messages();
        String full = render(msgs, false); // cut after the final assistant turn below
        List<Piece> pieces = new ArrayList<>();
        int pos = 0;
        int lastAssistant = -1;
        for (int i = 0; i < msgs.size(); i++) {
            if (!msgs.get(i).role().equals("assistant")) {
                continue;
            }
            if (i == 0) {
                throw new LoroException(c.source() + ": the conversation starts with an assistant message;"
                        + " it must start with a system or user message");
            }
            lastAssistant = i;
            String before = render(msgs.subList(0, i), true);
            String after = i == msgs.size() - 1 ? full : render(msgs.subList(0, i + 1), false);
            int turnEnd = commonPrefix(after, full);
            if (!full.startsWith(before) || before.length() < pos || turnEnd <= before.length()) {
                throw new TemplateNotPrefixStable(templateName() + " is not prefix-stable (at " + c.source()
                        + ", assistant message " + i + "): the render of the first " + i + " messages with the"
                        + " generation prompt is not a prefix of the render of the whole conversation, so the"
                        + " assistant tokens cannot be located; use a builtin template ("
                        + String.join(", ", ChatTemplate.builtinNames()) + ")");
            }
            pieces.add(new Piece(full.substring(pos, before.length()), false));
            boolean last = i == msgs.size() - 1;
            int cut = TurnBoundaries.splitAssistant(full.substring(before.length(), turnEnd), msgs.get(i).content(), pieces, last,
                    chat.endOfTurnTokens);
            pos = before.length() + cut;
        }
        if (lastAssistant != msgs.size() - 1) {
            pieces.add(new Piece(full.substring(pos), false));
        } else {
            full = full.substring(0, pos); // what a template adds after the final assistant turn is dropped
        }

        List<Long> ids = new ArrayList<>();
        List<Boolean> mask = new ArrayList<>();
        boolean bos = Bos.needed(full, chat.bosToPrepend, tokenizer);
        if (bos) {
            ids.add(chat.bosToPrepend);
            mask.add(false);
        }
        chat.encodePieces(pieces, ids, mask);
        long[] whole = tokenizer.encode(full, false);
        int offset = bos ? 1 : 0;
        int mismatch = ChatRendering.firstMismatch(whole, ids.size() - offset, j -> ids.get(j + offset));
        if (mismatch >= 0 && options.strictBoundaries()) {
            throw new LoroException(c.source() + ": tokenizing the rendered conversation in pieces (prompt /"
                    + " assistant parts) gives other tokens than tokenizing it whole, from token " + mismatch + " ("
                    + quote(tokenizer.decode(Arrays.copyOfRange(whole, mismatch, Math.min(whole.length, mismatch + 4)), false))
                    + " in the whole render): a token spans the boundary between a prompt and an assistant part;"
                    + " use a template that separates them (e.g. with a newline), or turn strict boundaries off to"
                    + " train on the pieces' tokens (as the model sees them at inference: the prompt tokenized alone)");
        }
        Long eos = tokenizer.eosId();
        String eosText = tokenizer.eosToken();
        if (options.appendEos() && eos != null && lastAssistant == msgs.size() - 1
                && !full.stripTrailing().endsWith(eosText)) {
            ids.add(eos);
            mask.add(true);
        }
        long[] a = new long[ids.size()];
        boolean[] m = new boolean[ids.size()];
        for (int k = 0; k < a.length; k++) {
            a[k] = ids.get(k);
            m[k] = mask.get(k);
        }
        if (m.length > 0) {
            m[0] = false;
        }
        return new Example(a, m, c.source());
    }

    private static int commonPrefix(String a, String b) {
        int n = Math.min(a.length(), b.length());
        int i = 0;
        while (i < n && a.charAt(i) == b.charAt(i)) {
            i++;
        }
        return i;
    }

    private static String quote(String s) {
        return ChatRendering.quote(s);
    }

    /** The chat template cannot be used to locate assistant turns (a data set-wide error, never skipped). */
    public static final class TemplateNotPrefixStable extends LoroException {
        public TemplateNotPrefixStable(String message) {
            super(message);
        }
    }
}
