package ai.loro.datasets;

import com.fasterxml.jackson.databind.node.ObjectNode;
import java.nio.file.Path;

/**
 * One record of a data set file as a JSON object, with where it came from: {@code line} is the
 * 1-based line of a .jsonl/.csv file (where the record starts), or the 1-based record index of a
 * .json array or .parquet file ({@code unit} "line" or "row").
 */
public record Row(Path file, long line, String unit, ObjectNode data) {
    public static final String LINE = "line";
    public static final String ROW = "row";

    /** "file:line" for line-based files, "file row N" for record-based ones. */
    public String where() {
        return LINE.equals(unit) ? file + ":" + line : file + " row " + line;
    }
}
