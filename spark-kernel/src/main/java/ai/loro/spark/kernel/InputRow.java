package ai.loro.spark.kernel;

import java.io.Serializable;

/** One non-blank input line: {@code row} is its 0-based line number in the input file. */
public record InputRow(long row, String line) implements Serializable {}
