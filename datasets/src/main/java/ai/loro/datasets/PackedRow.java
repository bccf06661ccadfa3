package ai.loro.datasets;

import java.util.List;

/**
 * Several examples laid end to end in one row of exactly sequence_len tokens, then padding.
 * {@code segmentIds} is 1, 2, 3... per example and 0 for padding; {@code positionIds} restart at 0 in
 * each example (0 for padding). lossMask is each example's own mask (padding false).
 */
public record PackedRow(long[] inputIds, boolean[] lossMask, long[] segmentIds, long[] positionIds,
        List<String> sources) {
    public int length() {
        return inputIds.length;
    }

    /** Tokens that are not padding. */
    public int usedTokens() {
        int n = 0;
        for (long s : segmentIds) {
            if (s != 0) {
                n++;
            }
        }
        return n;
    }

    public int segments() {
        long max = 0;
        for (long s : segmentIds) {
            max = Math.max(max, s);
        }
        return (int) max;
    }
}
