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
 * Preference pairs to token ids and loss masks, for DPO and reward-model training.
 *
 * <p>The prompt is rendered once, through the chat template with add_generation_prompt (e.g. ending
 * with "&lt;|start_header_id|&gt;assistant&lt;|end_header_id|&gt;\n\n" or "&lt;|im_start|&gt;assistant\n"),
 * and tokenized once; both sequences are these same prompt tokens followed by their response's tokens,
 * so chosen and rejected share the prompt tokens exactly. A response's text is what the render of
 * prompt + response adds to the prompt's render; as in {@link ExampleEncoder}, its trained part is each
 * assistant message's content and the text up to and including the first end-of-turn token after it
 * (the "\n" ChatML puts after &lt;|im_end|&gt; is kept untrained), non-blank text a template adds after
 * the final turn is left out, and the tokenizer's EOS is appended with loss when the response does not
 * end with it ({@link EncodeOptions#appendEos()}). BOS is prepended to the prompt when the tokenizer
 * adds it and the render does not start with it (e.g. the alpaca template). Prompt tokens never have
 * loss; {@link EncodeOptions#trainOnInputs()} only makes untrained text inside a response trained.
 *
 * <p>The prompt + response tokens are checked against tokenizing the whole render: a template whose
 * prompt render is not a prefix of the conversation's render fails for the data set ({@link
 * ExampleEncoder.TemplateNotPrefixStable}); a token across the prompt/response boundary fails the row
 * when {@link EncodeOptions#strictBoundaries()} (otherwise the pieces' tokens are kept).
 *
 * <p>Truncation to sequence_len keeps the prompt and cuts each response at its end; a pair whose
 * prompt alone fills sequence_len (no room for a response token) is dropped. Both are counted in
 * {@link #stats()}.
 */
public final class PreferenceEncoder {

    private final LoroTokenizer tokenizer;
    private final EncodeOptions options;
    private final ChatRendering chat;
    private final PreferenceStats stats = new PreferenceStats();

    public PreferenceEncoder(LoroTokenizer tokenizer, EncodeOptions options) {
        this.tokenizer = tokenizer;
        this.options = options;
        this.chat = new ChatRendering(tokenizer, options);
    }

    public EncodeOptions options() {
        return options;
    }

    /** Counts over all calls of {@link #encode}. */
    public PreferenceStats stats() {
        return stats;
    }

    /** Encodes pairs; rows that fail throw or are skipped by {@code bad}; dropped pairs are counted in stats. */
    public List<EncodedPair> encodeAll(List<PreferencePair> pairs, BadRows bad) {
        return bad.encodeEach(pairs, this::encode);
    }

    /** Tokenizes and truncates one pair; null when dropped (counted). */
    public EncodedPair encode(PreferencePair p) {
        return accept(tokenize(p));
    }

    /** Counts, truncates and possibly drops a pair from {@link #tokenize}; null when dropped. */
    public EncodedPair accept(EncodedPair full) {
        stats.encoded++;
        int max = options.sequenceLen();
        int prompt = full.promptLength();
        if (prompt >= max) {
            stats.droppedPromptTooLong++;
            return null;
        }
        long[] c = full.chosenIds();
        boolean[] cm = full.chosenMask();
        long[] r = full.rejectedIds();
        boolean[] rm = full.rejectedMask();
        long cut = 0;
        if (c.length > max) {
            stats.truncatedChosen++;
            cut += c.length - max;
            c = Arrays.copyOf(c, max);
            cm = Arrays.copyOf(cm, max);
        }
        if (r.length > max) {
            stats.truncatedRejected++;
            cut += r.length - max;
            r = Arrays.copyOf(r, max);
            rm = Arrays.copyOf(rm, max);
        }
        if (!anyTrained(cm, prompt) || !anyTrained(rm, prompt)) {
            stats.droppedNoTrainable++;
            return null;
        }
        if (cut > 0) {
            stats.truncatedPairs++;
            stats.truncatedTokens += cut;
        }
        stats.kept++;
        stats.keptTokens += c.length + r.length;
        return cut == 0 ? full : new EncodedPair(c, cm, r, rm, prompt, full.margin(), full.source());
    }

    private static boolean anyTrained(boolean[] mask, int from) {
        for (int i = from; i < mask.length; i++) {
            if (mask[i]) {
                return true;
            }
        }
        return false;
    }

    /** The full (untruncated) encoding of a pair. */
    public EncodedPair tokenize(PreferencePair p) {
        String promptText = render(p.prompt(), true, p.source());
        long[] promptOnly = tokenizer.encode(promptText, false);
        long[] promptIds = Bos.prepend(promptOnly, promptText, chat.bosToPrepend, tokenizer);
        if (promptIds.length == 0) {
            throw new LoroException(p.source() + ": the prompt renders to no tokens");
        }
        Response c = response(p, p.chosen(), promptText, promptOnly, "chosen");
        Response r = response(p, p.rejected(), promptText, promptOnly, "rejected");
        long[] cIds = concat(promptIds, c.ids);
        long[] rIds = concat(promptIds, r.ids);
        boolean[] cMask = new boolean[cIds.length];
        boolean[] rMask = new boolean[rIds.length];
        System.arraycopy(c.mask, 0, cMask, promptIds.length, c.mask.length);
        System.arraycopy(r.mask, 0, rMask, promptIds.length, r.mask.length);
        return new EncodedPair(cIds, cMask, rIds, rMask, promptIds.length, p.margin(), p.source());
    }

    private record Response(long[] ids, boolean[] mask) {}


    private Response response(PreferencePair p, List<ChatMessage> resp, String promptText, long[] promptOnly,
            String field) {
        List<ChatMessage> all = PreferencePair.concat(p.prompt(), resp);
        String full = render(all, false, p.source());
        List<Piece> pieces = new ArrayList<>();
        int pos = promptText.length();
        int n = p.prompt().size();
        for (int i = n; i < all.size(); i++) {
            if (!all.get(i).role().equals("assistant")) {
                continue;
            }
            String before = i == n ? promptText : render(all.subList(0, i), true, p.source());
            String after = i == all.size() - 1 ? full : render(all.subList(0, i + 1), false, p.source());
            int turnEnd = PreferenceFormat.commonPrefix(after, full);
            if (!full.startsWith(promptText) || !full.startsWith(before) || before.length() < pos
                    || turnEnd <= before.length()) {
                throw new ExampleEncoder.TemplateNotPrefixStable(templateName() + " is not prefix-stable (at "
                        + p.source() + ", " + field + " message " + (i - n) + "): the render of the prompt with the"
                        + " generation prompt is not a prefix of the render of prompt + response, so the response"
                        + " tokens cannot be located; use a builtin template ("
                        + String.join(", ", ChatTemplate.builtinNames()) + ")");
            }
            pieces.add(new Piece(full.substring(pos, before.length()), false));
            int cut = TurnBoundaries.splitAssistant(full.substring(before.length(), turnEnd), all.get(i).content(), pieces,
                    i == all.size() - 1, chat.endOfTurnTokens);
            pos = before.length() + cut;
        }
        full = full.substring(0, pos); // what a template adds after the final assistant turn is dropped

        List<Long> ids = new ArrayList<>();
        List<Boolean> mask = new ArrayList<>();
        chat.encodePieces(pieces, ids, mask);
        long[] whole = tokenizer.encode(full, false);
        int mismatch = ChatRendering.firstMismatch(whole, promptOnly.length + ids.size(),
                j -> j < promptOnly.length ? promptOnly[j] : ids.get(j - promptOnly.length));
        if (mismatch >= 0 && options.strictBoundaries()) {
            throw new LoroException(p.source() + ": field '" + field + "': tokenizing the prompt and the response"
                    + " separately gives other tokens than tokenizing prompt + response whole, from token " + mismatch + " ("
                    + quote(tokenizer.decode(Arrays.copyOfRange(whole, mismatch, Math.min(whole.length, mismatch + 4)), false))
                    + " in the whole render): a token spans the prompt/response boundary; use a template that"
                    + " separates them, or turn strict boundaries off to keep the pieces' tokens");
        }
        Long eos = tokenizer.eosId();
        String eosText = tokenizer.eosToken();
        if (options.appendEos() && eos != null && !full.stripTrailing().endsWith(eosText)) {
            ids.add(eos);
            mask.add(true);
        }
        long[] a = new long[ids.size()];
        boolean[] m = new boolean[ids.size()];
        for (int k = 0; k < a.length; k++) {
            a[k] = ids.get(k);
            m[k] = mask.get(k);
        }
        if (a.length == 0) {
            throw new LoroException(p.source() + ": field '" + field + "' renders to no tokens");
        }
        return new Response(a, m);
    }

    private String render(List<ChatMessage> msgs, boolean generationPrompt, String source) {
        return chat.render(msgs, generationPrompt);
    }

    private String templateName() {
        return chat.templateName();
    }

    private static long[] concat(long[] a, long[] b) {
        long[] out = Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, out, a.length, b.length);
        return out;
    }

    private static String quote(String s) {
        return ChatRendering.quote(s);
    }
}
