package ai.loro.core.train;

import com.fasterxml.jackson.databind.JsonNode;

/**
 * Where the caller's data stream stands (e.g. epoch and index into the shuffled order): saved with
 * each checkpoint after the step that consumed the data, and handed back on resume.
 */
public interface DataCursor {
    /** An opaque JSON value describing the position after the micro-batches drawn so far. */
    JsonNode position();

    /** Moves to a position returned earlier by {@link #position()}. */
    void seek(JsonNode position);

    /** Fractional epoch, for logs (e.g. 1.25 = a quarter into the second epoch). */
    double epoch();
}
