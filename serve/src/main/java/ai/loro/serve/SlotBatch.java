package ai.loro.serve;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.index.NDIndex;
import ai.loro.core.model.KvCache;
import ai.loro.core.model.LlamaModel;
import java.util.Arrays;

/**
 * The KV cache of a running decode batch in which rows come and go (continuous batching). All rows share one
 * column timeline of {@code length} cached positions; a row's tokens occupy the columns {@code [start, length)}
 * and the padding mask marks every other column of the row as a hole. A joining row's prefilled keys and values are
 * copied right-aligned (ending at {@code length}) into a free row, so positions ({@code cumsum(mask) - 1}) and the
 * attention bias, both computed from the mask, are exactly those of the row decoded alone.
 *
 * <p>When the timeline runs out of capacity, or most of it is holes, the batch compacts: every row is
 * right-aligned already, so dropping the leading columns no live row uses keeps all positions. Rows and capacity
 * grow (by doubling) and shrink by copying live rows into a new cache.
 */
final class SlotBatch implements AutoCloseable {
    private final LlamaModel model;
    private final int maxRows;
    private final int maxCapacity;
    private KvCache cache;
    private long[][] mask; // (rows, capacity) host copy of the padding mask
    private Object[] owner; // row → its sequence, null = free

    SlotBatch(LlamaModel model, int maxRows, int maxCapacity) {
        this.model = model;
        this.maxRows = maxRows;
        this.maxCapacity = maxCapacity;
        allocate(1, Math.min(maxCapacity, 64));
    }

    int rows() {
        return owner.length;
    }

    int length() {
        return cache.length();
    }

    KvCache cache() {
        return cache;
    }

    Object owner(int row) {
        return owner[row];
    }

    int live() {
        int n = 0;
        for (Object o : owner) {
            n += o != null ? 1 : 0;
        }
        return n;
    }

    /**
     * Puts a prefilled sequence (row 0 of {@code prefill}, its first {@code p} positions) into a free row, making
     * room first; returns the row.
     */
    int insert(Object seq, KvCache prefill, int p) {
        int live = live();
        if (live == rows()) {
            if (rows() >= maxRows) {
                throw new IllegalStateException("no free row (max " + maxRows + ")");
            }
            reshape(Math.min(maxRows, rows() * 2), cache.capacity());
        }
        // columns needed: every live row's span, the new prompt, and one more for the next step's token
        int need = Math.max(maxSpan(), p) + 1;
        if (need > maxCapacity) {
            throw new IllegalStateException("sequence of " + need + " positions exceeds the capacity " + maxCapacity);
        }
        if (length() + Math.max(0, p - length()) + 1 > cache.capacity()) {
            compact();
        }
        if (Math.max(length(), p) + 1 > cache.capacity()) {
            reshape(rows(), Math.min(maxCapacity, Math.max(cache.capacity() * 2, need)));
        }
        if (p > length()) {
            shiftRight(p - length());
        }
        int row = 0;
        while (owner[row] != null) {
            row++;
        }
        int len = length();
        for (int l = 0; l < model.config().numHiddenLayers(); l++) {
            NDIndex dst = new NDIndex("{}, :, {}:{}", row, len - p, len);
            NDIndex src = new NDIndex("0, :, 0:{}", p);
            try (NDArray k = prefill.keyBuffer(l).get(src); NDArray v = prefill.valueBuffer(l).get(src)) {
                cache.keyBuffer(l).set(dst, k);
                cache.valueBuffer(l).set(dst, v);
            }
        }
        Arrays.fill(mask[row], 0L);
        Arrays.fill(mask[row], len - p, len, 1L);
        owner[row] = seq;
        return row;
    }

    /** Frees a row: its columns become holes. */
    void free(int row) {
        owner[row] = null;
        Arrays.fill(mask[row], 0L);
        if (live() == 0) {
            cache.setLength(0);
        }
    }

    /**
     * Makes sure the next step has a column for its token, and drops holes when they dominate.
     * Call before each decode step.
     */
    void prepareStep() {
        int span = maxSpan();
        if (length() + 1 > cache.capacity() || length() > 2 * span + 32) {
            compact();
        }
        if (length() + 1 > cache.capacity()) {
            reshape(rows(), Math.min(maxCapacity, cache.capacity() * 2));
        }
        int live = live();
        if (rows() > 1 && live <= rows() / 4) { // shrink, keeping room to grow again
            reshape(Math.max(1, Integer.highestOneBit(Math.max(1, live)) * 2), cache.capacity());
        }
    }

    /** The padding mask of the next decode step, (rows, length + 1) flattened: live rows see their new token. */
    long[] stepMask() {
        int len = length();
        int total = len + 1;
        long[] flat = new long[rows() * total];
        for (int r = 0; r < rows(); r++) {
            System.arraycopy(mask[r], 0, flat, r * total, len);
            flat[r * total + len] = owner[r] != null ? 1L : 0L;
        }
        return flat;
    }

    /** Records the step the model just ran (the cache advanced by one column). */
    void stepDone() {
        int col = length() - 1;
        for (int r = 0; r < rows(); r++) {
            mask[r][col] = owner[r] != null ? 1L : 0L;
        }
    }

    /** Longest run of live columns: {@code length - start} over live rows. */
    private int maxSpan() {
        int len = length();
        int span = 0;
        for (int r = 0; r < rows(); r++) {
            if (owner[r] == null) {
                continue;
            }
            int start = 0;
            while (start < len && mask[r][start] == 0) {
                start++;
            }
            span = Math.max(span, len - start);
        }
        return span;
    }

    private void compact() {
        int len = length();
        int span = maxSpan();
        int drop = len - span;
        if (drop <= 0) {
            return;
        }
        for (int l = 0; l < model.config().numHiddenLayers(); l++) {
            moveColumns(cache.keyBuffer(l), drop, 0, span);
            moveColumns(cache.valueBuffer(l), drop, 0, span);
        }
        for (long[] m : mask) {
            System.arraycopy(m, drop, m, 0, span);
            Arrays.fill(m, span, m.length, 0L);
        }
        cache.setLength(span);
    }

    private void shiftRight(int by) {
        int len = length();
        for (int l = 0; l < model.config().numHiddenLayers(); l++) {
            moveColumns(cache.keyBuffer(l), 0, by, len);
            moveColumns(cache.valueBuffer(l), 0, by, len);
        }
        for (long[] m : mask) {
            System.arraycopy(m, 0, m, by, len);
            Arrays.fill(m, 0, by, 0L);
        }
        cache.setLength(len + by);
    }

    /** buf[:, :, to:to+n] = buf[:, :, from:from+n], through a copy (the ranges may overlap). */
    private static void moveColumns(NDArray buf, int from, int to, int n) {
        if (n == 0) {
            return;
        }
        try (NDArray view = buf.get(new NDIndex(":, :, {}:{}", from, from + n)); NDArray copy = view.duplicate()) {
            buf.set(new NDIndex(":, :, {}:{}", to, to + n), copy);
        }
    }

    /** A new cache of {@code rows} × {@code capacity}: live rows move to the top rows, their columns kept. */
    private void reshape(int newRows, int newCapacity) {
        KvCache old = cache;
        long[][] oldMask = mask;
        Object[] oldOwner = owner;
        int len = old.length();
        allocate(newRows, newCapacity);
        int dst = 0;
        for (int r = 0; r < oldOwner.length; r++) {
            if (oldOwner[r] == null) {
                continue;
            }
            for (int l = 0; l < model.config().numHiddenLayers(); l++) {
                NDIndex from = new NDIndex("{}, :, 0:{}", r, len);
                NDIndex to = new NDIndex("{}, :, 0:{}", dst, len);
                try (NDArray k = old.keyBuffer(l).get(from); NDArray v = old.valueBuffer(l).get(from)) {
                    cache.keyBuffer(l).set(to, k);
                    cache.valueBuffer(l).set(to, v);
                }
            }
            System.arraycopy(oldMask[r], 0, mask[dst], 0, len);
            owner[dst] = oldOwner[r];
            if (oldOwner[r] instanceof Rowed s) {
                s.movedTo(dst);
            }
            dst++;
        }
        cache.setLength(len);
        old.close();
    }

    private void allocate(int rows, int capacity) {
        cache = model.newCache(rows, capacity);
        mask = new long[rows][capacity];
        owner = new Object[rows];
    }

    /** A row's occupant that wants to know where it moved. */
    interface Rowed {
        void movedTo(int row);
    }

    @Override
    public void close() {
        cache.close();
    }
}
