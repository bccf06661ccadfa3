package ai.loro.spark.kernel;

import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.Serializable;
import java.util.List;

/**
 * What a job does to a batch of input rows, free of Spark: the executor runs it inside
 * {@code mapPartitions}, the in-process path over the whole file, with the same batches either way.
 * Implementations hold only settings (paths, numbers); models come from {@link ModelCache} on the executor.
 */
public interface Kernel extends Serializable {
    /** Rows per batch. A batch is the rows with the same {@code row / rowsPerBatch()}; partitions never split one. */
    int rowsPerBatch();

    /** The output rows of one batch (input fields, {@code row}, the job's fields), in input order. */
    List<ObjectNode> process(List<InputRow> batch);

    /** The fields the job adds after the input's (Parquet schema). */
    List<Field> fields();
}
