package ai.loro.core.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;

/**
 * Keys and values of every layer for the tokens seen so far, post-RoPE. Buffers are preallocated
 * to a capacity and written in place, so a decode step copies only its own token's keys and
 * values, never the whole history.
 */
public final class KvCache implements AutoCloseable {
    private final NDManager manager;
    private final NDArray[] keys; // per layer (B, KV, capacity, D)
    private final NDArray[] values;
    private int length;
    private final int capacity;

    public KvCache(LlamaConfig config, int batch, int capacity, NDManager parent, DataType dtype) {
        this.manager = parent.newSubManager();
        this.capacity = capacity;
        this.keys = new NDArray[config.numHiddenLayers()];
        this.values = new NDArray[config.numHiddenLayers()];
        Shape shape = new Shape(batch, config.numKeyValueHeads(), capacity, config.headDim());
        for (int l = 0; l < keys.length; l++) {
            keys[l] = manager.zeros(shape, dtype);
            values[l] = manager.zeros(shape, dtype);
            ai.djl.ndarray.NDScope.unregister(keys[l], values[l]);
        }
    }

    private KvCache(NDManager manager, NDArray[] keys, NDArray[] values, int length, int capacity) {
        this.manager = manager;
        this.keys = keys;
        this.values = values;
        this.length = length;
        this.capacity = capacity;
    }

    /**
     * A new cache of {@code batch · copies} rows in which rows {@code i · copies … i · copies + copies − 1}
     * each hold a copy of this cache's row i (its cached positions and capacity): one prefill of a
     * prompt shared by the several continuations sampled from it. This cache is unchanged.
     */
    public KvCache repeatRows(int copies) {
        if (copies < 1) {
            throw new IllegalArgumentException("copies must be >= 1, got " + copies);
        }
        NDManager m = manager.getParentManager().newSubManager();
        NDArray[] k = new NDArray[keys.length];
        NDArray[] v = new NDArray[values.length];
        for (int l = 0; l < keys.length; l++) {
            k[l] = keys[l].repeat(0, copies); // (B·copies, KV, capacity, D), row i·copies + j = row i
            v[l] = values[l].repeat(0, copies);
            k[l].attach(m);
            v[l].attach(m);
            ai.djl.ndarray.NDScope.unregister(k[l], v[l]);
        }
        return new KvCache(m, k, v, length, capacity);
    }

    /** Number of positions already cached. */
    public int length() {
        return length;
    }

    /**
     * Writes this step's keys/values after the cached ones and returns views over everything so
     * far, attached to the step's manager (the views must die with the step).
     *
     * @param k (B, KV, T, D)
     * @return {keys (B, KV, length + T, D), values (B, KV, length + T, D)}
     */
    NDArray[] append(int layer, NDArray k, NDArray v) {
        int t = (int) k.getShape().get(2);
        if (length + t > capacity) {
            throw new IllegalStateException("KV cache capacity " + capacity + " exceeded (" + (length + t) + ")");
        }
        NDIndex slot = new NDIndex(":, :, {}:{}", length, length + t);
        keys[layer].set(slot, k);
        values[layer].set(slot, v);
        NDIndex upTo = new NDIndex(":, :, :{}", length + t);
        NDManager step = k.getManager();
        NDArray kAll = keys[layer].get(upTo);
        NDArray vAll = values[layer].get(upTo);
        kAll.attach(step);
        vAll.attach(step);
        return new NDArray[] {kAll, vAll};
    }

    /** Called once all layers have appended a step of {@code t} tokens. */
    void advance(int t) {
        length += t;
    }

    public int capacity() {
        return capacity;
    }

    /** Rows (the batch size) the buffers hold. */
    public int rows() {
        return (int) keys[0].getShape().get(0);
    }

    /**
     * Layer {@code layer}'s key buffer (B, KV, capacity, D), for callers that move rows between caches
     * (the server's continuous batching); writes into it change what later steps attend to.
     */
    public NDArray keyBuffer(int layer) {
        return keys[layer];
    }

    /** Layer {@code layer}'s value buffer (B, KV, capacity, D); see {@link #keyBuffer}. */
    public NDArray valueBuffer(int layer) {
        return values[layer];
    }

    /** How many positions count as cached, after a caller rewrote the buffers (0 .. capacity). */
    public void setLength(int length) {
        if (length < 0 || length > capacity) {
            throw new IllegalArgumentException("KV cache length " + length + " outside 0.." + capacity);
        }
        this.length = length;
    }

    @Override
    public void close() {
        manager.close();
    }
}
