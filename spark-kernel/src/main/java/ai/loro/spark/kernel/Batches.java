package ai.loro.spark.kernel;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.UncheckedIOException;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.NoSuchElementException;

/**
 * Runs a kernel over rows sorted by {@code row}, one batch at a time and lazily: a partition streams
 * (one batch of inputs and outputs in memory), whatever its size.
 */
public final class Batches {
    private Batches() {}

    private static final ObjectMapper JSON = new ObjectMapper();

    /**
     * One batch at a time per JVM: the task threads of an executor share one model ({@link ModelCache}), whose cached
     * tables (RoPE) are not safe to use from two threads at once (seen as "Native resource has been released already"
     * under local[2]). The other threads meanwhile read, sort and write rows; libtorch's own threads use the cores.
     */
    private static final Object MODEL_LOCK = new Object();

    /** Output rows as JSON text, one object each, in input order. */
    public static Iterator<String> run(Kernel kernel, Iterator<InputRow> rows) {
        return new Iterator<>() {
            private final ArrayDeque<String> ready = new ArrayDeque<>();
            private InputRow pending;

            @Override
            public boolean hasNext() {
                while (ready.isEmpty() && (pending != null || rows.hasNext())) {
                    List<InputRow> batch = new ArrayList<>();
                    InputRow first = pending != null ? pending : rows.next();
                    pending = null;
                    batch.add(first);
                    long id = first.row() / kernel.rowsPerBatch();
                    while (rows.hasNext()) {
                        InputRow r = rows.next();
                        if (r.row() / kernel.rowsPerBatch() != id) {
                            pending = r;
                            break;
                        }
                        batch.add(r);
                    }
                    List<ObjectNode> outputs;
                    synchronized (MODEL_LOCK) {
                        outputs = kernel.process(batch);
                    }
                    for (ObjectNode o : outputs) {
                        try {
                            ready.add(JSON.writeValueAsString(o));
                        } catch (JsonProcessingException e) {
                            throw new UncheckedIOException(e);
                        }
                    }
                }
                return !ready.isEmpty();
            }

            @Override
            public String next() {
                if (!hasNext()) {
                    throw new NoSuchElementException();
                }
                return ready.poll();
            }
        };
    }
}
