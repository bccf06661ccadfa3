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
}
