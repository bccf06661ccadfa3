package ai.loro.datasets;

import java.util.Arrays;
import java.util.List;

/** Builds {@link Batch}es: right padding for single examples, or packed rows as they are. */
public final class Collator {
    private Collator() {}

    /**
     * Right-pads examples to the longest in the batch, rounded up to a multiple of {@code padToMultipleOf}
     * (1 = no rounding). Each row is one segment (segment id 1, positions 0..n-1).
     */
    public static Batch collate(List<Example> examples, long padId, int padToMultipleOf) {
        int max = 0;
        for (Example e : examples) {
            max = Math.max(max, e.length());
        }
        int m = Math.max(1, padToMultipleOf);
        int len = (max + m - 1) / m * m;
        int b = examples.size();
        long[][] ids = new long[b][len];
        long[][] att = new long[b][len];
        long[][] labels = new long[b][len];
        boolean[][] mask = new boolean[b][len];
        long[][] seg = new long[b][len];
        long[][] pos = new long[b][len];
        for (int r = 0; r < b; r++) {
            Example e = examples.get(r);
            Arrays.fill(ids[r], padId);
            Arrays.fill(labels[r], Example.IGNORE_INDEX);
            for (int i = 0; i < e.length(); i++) {
                ids[r][i] = e.inputIds()[i];
                att[r][i] = 1;
                mask[r][i] = e.lossMask()[i];
                labels[r][i] = e.lossMask()[i] ? e.inputIds()[i] : Example.IGNORE_INDEX;
                seg[r][i] = 1;
                pos[r][i] = i;
            }
        }
        return new Batch(ids, att, labels, mask, seg, pos);
    }

    public static Batch collate(List<Example> examples, long padId) {
        return collate(examples, padId, 1);
    }

    /** Stacks packed rows (all of sequence_len). */
    public static Batch collatePacked(List<PackedRow> rows) {
        int b = rows.size();
        long[][] ids = new long[b][];
        long[][] att = new long[b][];
        long[][] labels = new long[b][];
        boolean[][] mask = new boolean[b][];
        long[][] seg = new long[b][];
        long[][] pos = new long[b][];
        for (int r = 0; r < b; r++) {
            PackedRow p = rows.get(r);
            int n = p.length();
            ids[r] = p.inputIds().clone();
            mask[r] = p.lossMask().clone();
            seg[r] = p.segmentIds().clone();
            pos[r] = p.positionIds().clone();
            att[r] = new long[n];
            labels[r] = new long[n];
            for (int i = 0; i < n; i++) {
                att[r][i] = p.segmentIds()[i] != 0 ? 1 : 0;
                labels[r][i] = p.lossMask()[i] ? p.inputIds()[i] : Example.IGNORE_INDEX;
            }
        }
        return new Batch(ids, att, labels, mask, seg, pos);
    }

    /** Pad id for a tokenizer: its pad token, else its EOS, else 0. */
    public static long padId(ai.loro.core.tokenizer.LoroTokenizer tokenizer) {
        Long p = tokenizer.padId();
        if (p == null) {
            p = tokenizer.eosId();
        }
        return p == null ? 0 : p;
    }
}
