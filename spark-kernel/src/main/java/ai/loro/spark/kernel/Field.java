package ai.loro.spark.kernel;

import java.io.Serializable;

/** A field a job adds to each output row, with its type (for Parquet output; JSON Lines needs none). */
public record Field(String name, Type type) implements Serializable {
    public enum Type { LONG, DOUBLE, FLOAT, STRING, BOOLEAN, LONG_ARRAY, FLOAT_ARRAY, DOUBLE_ARRAY }
}
