package ai.loro.datasets;

/**
 * A padded or packed batch, rows of equal length.
 *
 * @param inputIds token ids, padding = the pad id
 * @param attentionMask 1 for tokens, 0 for padding
 * @param labels token id where trained, -100 elsewhere (unshifted, as Hugging Face labels)
 * @param lossMask true where trained
 * @param segmentIds per token: 1, 2, 3... the example it belongs to within the row, 0 for padding;
 *     attention must not cross segments
 * @param positionIds positions restarting at 0 in each segment; 0 for padding
 */
public record Batch(long[][] inputIds, long[][] attentionMask, long[][] labels, boolean[][] lossMask,
        long[][] segmentIds, long[][] positionIds) {
    public int size() {
        return inputIds.length;
    }

    public int length() {
        return inputIds.length == 0 ? 0 : inputIds[0].length;
    }

    /** Number of trained tokens. */
    public long trainableTokens() {
        long n = 0;
        for (boolean[] row : lossMask) {
            for (boolean b : row) {
                if (b) {
                    n++;
                }
            }
        }
        return n;
    }

    /** Row-major (B·T) copy of a (B, T) table, for one NDArray creation. */
    public static long[] flat(long[][] rows) {
        int t = rows.length == 0 ? 0 : rows[0].length;
        long[] out = new long[rows.length * t];
        for (int r = 0; r < rows.length; r++) {
            System.arraycopy(rows[r], 0, out, r * t, rows[r].length);
        }
        return out;
    }

    /**
     * The loss mask aligned with next-token log-probs, (B, T-1) row-major: entry t is 1 when token
     * t+1 is trained (it is predicted at position t).
     */
    public float[] nextTokenLossMask() {
        int t = length();
        float[] mask = new float[size() * Math.max(0, t - 1)];
        for (int r = 0; r < size(); r++) {
            for (int i = 1; i < t; i++) {
                mask[r * (t - 1) + i - 1] = lossMask[r][i] ? 1f : 0f;
            }
        }
        return mask;
    }
}
