package ai.loro.core.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import java.util.Arrays;
import java.util.List;

/**
 * Token rows of different lengths as one (B, T) batch: ids padded with {@code padId} and a mask with 1
 * for tokens, 0 for padding. Right padding for scoring (each row's positions start at 0); left padding
 * for generation (every row's next token is at the end).
 *
 * @param ids (B·T) row-major
 * @param mask (B·T) row-major
 */
public record PaddedRows(long[] ids, long[] mask, int rows, int length) {
    public static PaddedRows right(List<long[]> rows, long padId) {
        return pad(rows, padId, false);
    }

    public static PaddedRows left(List<long[]> rows, long padId) {
        return pad(rows, padId, true);
    }

    private static PaddedRows pad(List<long[]> rows, long padId, boolean left) {
        int t = rows.stream().mapToInt(r -> r.length).max().orElse(0);
        long[] ids = new long[rows.size() * t];
        long[] mask = new long[ids.length];
        Arrays.fill(ids, padId);
        for (int b = 0; b < rows.size(); b++) {
            long[] r = rows.get(b);
            int start = b * t + (left ? t - r.length : 0);
            System.arraycopy(r, 0, ids, start, r.length);
            Arrays.fill(mask, start, start + r.length, 1L);
        }
        return new PaddedRows(ids, mask, rows.size(), t);
    }

    /** The ids as a (B, T) int64 array on {@code m}. */
    public NDArray idsArray(NDManager m) {
        return m.create(ids, new Shape(rows, length));
    }

    /** The mask as a (B, T) int64 array on {@code m}. */
    public NDArray maskArray(NDManager m) {
        return m.create(mask, new Shape(rows, length));
    }
}
