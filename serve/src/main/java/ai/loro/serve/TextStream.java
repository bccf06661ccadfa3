package ai.loro.serve;

import java.util.List;
import java.util.function.Function;

/**
 * The text of a growing token sequence, handed out in deltas that never split a character: the whole
 * continuation is decoded after each token, and text is released only up to the last complete character
 * (a byte-level tokenizer decodes an incomplete UTF-8 sequence as U+FFFD, which is held back until the next
 * token completes it) and, with stop strings, short of the longest stop string minus one character (so a stop
 * string that is still arriving is never shown). The deltas concatenate to {@link #text()}.
 */
final class TextStream {
    private final Function<long[], String> decoder;
    private final List<String> stops;
    private final int holdBack;
    private String text = "";
    private int released;
    private boolean stopped;

    TextStream(Function<long[], String> decoder, List<String> stops) {
        this.decoder = decoder;
        this.stops = stops;
        int longest = 0;
        for (String s : stops) {
            longest = Math.max(longest, s.length());
        }
        this.holdBack = Math.max(0, longest - 1);
    }

    /**
     * Updates the text with the continuation so far (without any end-of-sequence token).
     *
     * @return true when a stop string appeared: the text is cut before it and nothing more may be added
     */
    boolean update(long[] tokens) {
        if (stopped) {
            throw new IllegalStateException("text already stopped");
        }
        String full = decoder.apply(tokens);
        int cut = -1;
        for (String s : stops) {
            int at = full.indexOf(s);
            if (at >= 0 && (cut < 0 || at < cut)) {
                cut = at;
            }
        }
        if (cut >= 0) {
            text = full.substring(0, cut);
            stopped = true;
            return true;
        }
        text = full;
        return false;
    }

    /**
     * The text not released yet that is safe to show; with {@code finished} everything left.
     */
    String delta(boolean finished) {
        int upTo = text.length();
        if (!finished) {
            while (upTo > released && text.charAt(upTo - 1) == '\uFFFD') {
                upTo--;
            }
            upTo = Math.max(released, upTo - holdBack);
            if (upTo > released && Character.isHighSurrogate(text.charAt(upTo - 1))) {
                upTo--;
            }
        }
        if (upTo < released) { // the text changed behind what was shown (never with byte-level decoders)
            return "";
        }
        String d = text.substring(released, upTo);
        released = upTo;
        return d;
    }

    String text() {
        return text;
    }
}
