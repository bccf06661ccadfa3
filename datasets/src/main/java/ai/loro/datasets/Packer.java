package ai.loro.datasets;

import ai.loro.core.LoroException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Sample packing: examples are placed, in the given order, into the first row with room left
 * (first fit), each row holding at most sequence_len tokens; an example is never split. The result
 * is deterministic for a given order (shuffle first with {@link Splits#shuffle}).
 */
public final class Packer {
    private Packer() {}

    public static List<PackedRow> pack(List<Example> examples, int sequenceLen, long padId) {
        if (sequenceLen < 1) {
            throw new LoroException("sequence_len must be >= 1 for packing, got " + sequenceLen);
        }
        List<List<Example>> rows = new ArrayList<>();
        List<Integer> used = new ArrayList<>();
        for (Example e : examples) {
            if (e.length() > sequenceLen) {
                throw new LoroException(e.source() + ": example of " + e.length() + " tokens is longer than"
                        + " sequence_len " + sequenceLen + "; truncate before packing");
            }
            if (e.length() == 0) {
                continue;
            }
            int r = 0;
            while (r < rows.size() && used.get(r) + e.length() > sequenceLen) {
                r++;
            }
            if (r == rows.size()) {
                rows.add(new ArrayList<>());
                used.add(0);
            }
            rows.get(r).add(e);
            used.set(r, used.get(r) + e.length());
        }
        List<PackedRow> out = new ArrayList<>(rows.size());
        for (List<Example> row : rows) {
            long[] ids = new long[sequenceLen];
            Arrays.fill(ids, padId);
            boolean[] mask = new boolean[sequenceLen];
            long[] seg = new long[sequenceLen];
            long[] pos = new long[sequenceLen];
            List<String> sources = new ArrayList<>();
            int k = 0;
            int s = 1;
            for (Example e : row) {
                for (int i = 0; i < e.length(); i++, k++) {
                    ids[k] = e.inputIds()[i];
                    mask[k] = e.lossMask()[i] && i > 0;
                    seg[k] = s;
                    pos[k] = i;
                }
                sources.add(e.source());
                s++;
            }
            out.add(new PackedRow(ids, mask, seg, pos, List.copyOf(sources)));
        }
        return out;
    }
}
