package ai.loro.spark.kernel;

import ai.loro.core.LoroException;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.Serializable;
import java.util.List;

/**
 * What a job does to a batch of input rows, free of Spark: the executor runs it inside
 * {@code mapPartitions}, the in-process path over the whole file, with the same batches either way.
 * Implementations hold only settings (paths, numbers); models come from {@link ModelCache} on the executor.
 */
public interface Kernel extends Serializable {
    /** The job's {@code --batch-size}: sequences per forward pass. */
    int batchSize();

    /**
     * Rows per batch (by default {@link #batchSize()}). A batch is the rows with the same
     * {@code row / rowsPerBatch()}; partitions never split one.
     */
    default int rowsPerBatch() {
        return batchSize();
    }

    /** The output rows of one batch (input fields, {@code row}, the job's fields), in input order. */
    List<ObjectNode> process(List<InputRow> batch);

    /** The fields the job adds after the input's (Parquet schema). */
    List<Field> fields();

    /** Rejects a whole-number option below 1 in one line: {@code --batch-size must be >= 1, got 0}. */
    static void atLeastOne(String option, int value) {
        if (value < 1) {
            throw new LoroException(option + " must be >= 1, got " + value);
        }
    }
}
