package ai.loro.spark;

import org.apache.spark.Partitioner;

/**
 * Rows (keyed by their 0-based input line) to partitions in contiguous ranges of whole batches: batch
 * {@code row / rowsPerBatch} goes to partition {@code batch · partitions / batches}. A batch is never split, so
 * every batch holds the same rows whatever the number of partitions, and so do its outputs.
 */
final class BatchPartitioner extends Partitioner {
    private final int partitions;
    private final int rowsPerBatch;
    private final long batches;

    BatchPartitioner(int partitions, int rowsPerBatch, long lines) {
        this.partitions = partitions;
        this.rowsPerBatch = rowsPerBatch;
        this.batches = Math.max(1, (lines + rowsPerBatch - 1) / rowsPerBatch);
    }

    @Override
    public int numPartitions() {
        return partitions;
    }

    @Override
    public int getPartition(Object key) {
        long batch = (Long) key / rowsPerBatch;
        return (int) Math.min(partitions - 1, batch * partitions / batches);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof BatchPartitioner p && p.partitions == partitions && p.rowsPerBatch == rowsPerBatch
                && p.batches == batches;
    }

    @Override
    public int hashCode() {
        return java.util.Objects.hash(partitions, rowsPerBatch, batches);
    }
}
