package ai.loro.core.train;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.LongNode;
import java.util.List;
import java.util.function.IntFunction;

/**
 * Micro-batches epoch after epoch, each epoch's order a function of its number (a shuffle by
 * (seed, epoch)); the position is the global micro-batch index, so a resumed run draws exactly the
 * batches an uninterrupted one would.
 */
public final class EpochCursor<T> implements DataCursor {
    private final IntFunction<List<T>> epochBatches;
    private final int batchesPerEpoch;
    private long index;
    private int cachedEpoch = -1;
    private List<T> cached;

    public EpochCursor(IntFunction<List<T>> epochBatches, int batchesPerEpoch) {
        if (batchesPerEpoch < 1) {
            throw new IllegalArgumentException("an epoch needs at least one micro-batch");
        }
        this.epochBatches = epochBatches;
        this.batchesPerEpoch = batchesPerEpoch;
    }

    public T next() {
        int epoch = (int) (index / batchesPerEpoch);
        if (epoch != cachedEpoch) {
            cached = epochBatches.apply(epoch);
            cachedEpoch = epoch;
        }
        return cached.get((int) (index++ % batchesPerEpoch));
    }

    @Override
    public JsonNode position() {
        return LongNode.valueOf(index);
    }

    @Override
    public void seek(JsonNode position) {
        index = position.asLong();
    }

    @Override
    public double epoch() {
        return (double) index / batchesPerEpoch;
    }
}
