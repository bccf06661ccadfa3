package ai.loro.core.train;

import ai.loro.core.LoroException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.BufferedWriter;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;

/** A JSON-lines run log ({@code metrics.jsonl}, {@code samples.jsonl}): one object with a {@code step} per line, flushed per line. */
public final class MetricsLog implements AutoCloseable {
    public static final ObjectMapper JSON = new ObjectMapper();

    private final Path file;
    private final BufferedWriter out;

    /**
     * Opens the log for a run that starts after {@code startStep} completed steps: a fresh run
     * ({@code startStep == 0}) starts an empty file; a resumed one keeps only the lines up to
     * {@code startStep}, dropping those the crashed run wrote after its last checkpoint.
     */
    public MetricsLog(Path file, int startStep) {
        this.file = file;
        try {
            Files.createDirectories(file.toAbsolutePath().getParent());
            List<String> kept = new ArrayList<>();
            if (startStep > 0 && Files.exists(file)) {
                for (String line : Files.readAllLines(file, StandardCharsets.UTF_8)) {
                    if (line.isBlank()) {
                        continue;
                    }
                    try {
                        JsonNode n = JSON.readTree(line);
                        if (n.path("step").asInt(Integer.MAX_VALUE) <= startStep) {
                            kept.add(line);
                        }
                    } catch (IOException e) {
                        // a line cut off by the crash: drop it
                    }
                }
            }
            out = Files.newBufferedWriter(file, StandardCharsets.UTF_8, StandardOpenOption.CREATE,
                    StandardOpenOption.TRUNCATE_EXISTING, StandardOpenOption.WRITE);
            for (String line : kept) {
                out.write(line);
                out.write('\n');
            }
            out.flush();
        } catch (IOException e) {
            throw new LoroException(file + ": cannot write: " + e.getMessage(), e);
        }
    }

    public static ObjectNode line(int step, String split) {
        ObjectNode o = JSON.createObjectNode();
        o.put("step", step);
        o.put("split", split);
        return o;
    }

    /** Puts a number, or null where it is NaN or infinite (JSON has neither). */
    public static void put(ObjectNode o, String key, double value) {
        if (Double.isFinite(value)) {
            o.put(key, value);
        } else {
            o.putNull(key);
        }
    }

    public void write(ObjectNode line) {
        try {
            out.write(JSON.writeValueAsString(line));
            out.write('\n');
            out.flush();
        } catch (IOException e) {
            throw new LoroException(file + ": cannot write: " + e.getMessage(), e);
        }
    }

    @Override
    public void close() {
        try {
            out.close();
        } catch (IOException e) {
            throw new LoroException(file + ": cannot write: " + e.getMessage(), e);
        }
    }
}
