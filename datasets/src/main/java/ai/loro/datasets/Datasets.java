package ai.loro.datasets;

import java.nio.file.Path;
import java.util.List;

/** Shortcuts: a file of a given format to samples. */
public final class Datasets {
    private Datasets() {}

    /** Reads file and parses each row as format; bad rows throw or are skipped and counted by {@code bad}. */
    public static List<Sample> load(Path file, DatasetFormat format, BadRows bad) {
        return format.parseAll(DatasetReader.read(file, bad), bad);
    }

    public static List<Sample> load(Path file, DatasetFormat format) {
        return load(file, format, BadRows.failFast());
    }
}
