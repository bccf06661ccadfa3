package ai.loro.datasets;

/**
 * A batch of B preference pairs as 2B right-padded rows: rows 0..B-1 are the chosen sequences and rows
 * B..2B-1 the rejected ones, pair i in rows i and B + i (the layout DPO and reward training use: one
 * forward pass, then split in halves).
 *
 * @param batch the 2B rows: ids, attention mask (1 = token), labels, loss masks (response tokens)
 * @param promptLengths per pair, the number of shared prompt tokens
 * @param margins per pair, its margin or null
 * @param sources per pair, where it came from
 */
public record PreferenceBatch(Batch batch, int[] promptLengths, Double[] margins, String[] sources) {
    /** Number of pairs B. */
    public int pairs() {
        return promptLengths.length;
    }

    public int chosenRow(int pair) {
        return pair;
    }

    public int rejectedRow(int pair) {
        return pairs() + pair;
    }

    /** Whether every pair has a margin. */
    public boolean hasMargins() {
        for (Double m : margins) {
            if (m == null) {
                return false;
            }
        }
        return margins.length > 0;
    }

    /** Margins with 0 for pairs without one. */
    public double[] marginsOrZero() {
        double[] out = new double[margins.length];
        for (int i = 0; i < out.length; i++) {
            out[i] = margins[i] == null ? 0 : margins[i];
        }
        return out;
    }
}
