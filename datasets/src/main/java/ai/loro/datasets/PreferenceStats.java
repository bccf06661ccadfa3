package ai.loro.datasets;

/** Counts kept by {@link PreferenceEncoder}: nothing is cut or dropped silently. */
public final class PreferenceStats {
    int encoded;
    int kept;
    int droppedPromptTooLong;
    int droppedNoTrainable;
    int truncatedPairs;
    int truncatedChosen;
    int truncatedRejected;
    long truncatedTokens;
    long keptTokens;

    /** Pairs tokenized. */
    public int encoded() {
        return encoded;
    }

    /** Pairs returned. */
    public int kept() {
        return kept;
    }

    /** Pairs dropped because the prompt alone fills sequence_len (no room for a response token). */
    public int droppedPromptTooLong() {
        return droppedPromptTooLong;
    }

    /** Pairs dropped because a response kept no trained token after truncation. */
    public int droppedNoTrainable() {
        return droppedNoTrainable;
    }

    /** Pairs with at least one response cut at its end to fit sequence_len. */
    public int truncatedPairs() {
        return truncatedPairs;
    }

    public int truncatedChosen() {
        return truncatedChosen;
    }

    public int truncatedRejected() {
        return truncatedRejected;
    }

    /** Response tokens cut off, over chosen and rejected sequences of kept pairs. */
    public long truncatedTokens() {
        return truncatedTokens;
    }

    /** Tokens in kept pairs (chosen + rejected sequences). */
    public long keptTokens() {
        return keptTokens;
    }

    /** One line for logs. */
    public String summary(int sequenceLen) {
        return kept + " pairs (" + keptTokens + " tokens); " + truncatedPairs + " with a response truncated to"
                + " sequence_len " + sequenceLen + " (" + truncatedChosen + " chosen, " + truncatedRejected
                + " rejected, " + truncatedTokens + " tokens dropped); " + droppedPromptTooLong
                + " dropped: prompt alone fills sequence_len; " + droppedNoTrainable + " dropped with no trained tokens";
    }

    @Override
    public String toString() {
        return "PreferenceStats[encoded=" + encoded + ", kept=" + kept + ", droppedPromptTooLong=" + droppedPromptTooLong
                + ", droppedNoTrainable=" + droppedNoTrainable + ", truncatedPairs=" + truncatedPairs
                + ", truncatedTokens=" + truncatedTokens + "]";
    }
}
