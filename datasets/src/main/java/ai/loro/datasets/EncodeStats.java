package ai.loro.datasets;

/**
 * Counts kept by {@link ExampleEncoder}: nothing is cut or dropped silently.
 */
public final class EncodeStats {
    int encoded;
    int kept;
    int truncatedExamples;
    long truncatedTokens;
    int droppedNoTrainable;
    long keptTokens;
    long trainableTokens;

    /** Samples tokenized. */
    public int encoded() {
        return encoded;
    }

    /** Examples returned (encoded minus dropped). */
    public int kept() {
        return kept;
    }

    /** Examples longer than sequence_len, cut to it. */
    public int truncatedExamples() {
        return truncatedExamples;
    }

    /** Tokens cut off by truncation, over all examples. */
    public long truncatedTokens() {
        return truncatedTokens;
    }

    /** Examples dropped because no token had loss (after truncation, or at all). */
    public int droppedNoTrainable() {
        return droppedNoTrainable;
    }

    public long keptTokens() {
        return keptTokens;
    }

    public long trainableTokens() {
        return trainableTokens;
    }

    /** One line for logs, e.g. "1000 examples, 12 truncated (3456 tokens dropped), 1 dropped with no trained tokens". */
    public String summary(int sequenceLen) {
        return kept + " examples (" + keptTokens + " tokens, " + trainableTokens + " trained); " + truncatedExamples
                + " truncated to sequence_len " + sequenceLen + " (" + truncatedTokens + " tokens dropped); "
                + droppedNoTrainable + " dropped with no trained tokens";
    }

    @Override
    public String toString() {
        return "EncodeStats[encoded=" + encoded + ", kept=" + kept + ", truncatedExamples=" + truncatedExamples
                + ", truncatedTokens=" + truncatedTokens + ", droppedNoTrainable=" + droppedNoTrainable + "]";
    }
}
