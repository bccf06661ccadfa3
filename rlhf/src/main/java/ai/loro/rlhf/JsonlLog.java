package ai.loro.rlhf;

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

/**
 * A JSON-lines file with one object per line and a {@code step} in each, flushed per line. A run
 * starting after {@code startStep} completed steps keeps only the lines up to that step (a
 * resumed run drops what the crashed one wrote after its last checkpoint); a fresh run starts empty.
 */
final class JsonlLog implements AutoCloseable {
    static final ObjectMapper JSON = new ObjectMapper();

    private final Path file;
    private final BufferedWriter out;

    JsonlLog(Path file, int startStep) {
        this.file = file;
        try {
            List<String> kept = new ArrayList<>();
            if (startStep > 0 && Files.exists(file)) {
                for (String line : Files.readAllLines(file, StandardCharsets.UTF_8)) {
                    try {
                        JsonNode n = JSON.readTree(line);
                        if (n != null && n.path("step").asInt(Integer.MAX_VALUE) <= startStep) {
                            kept.add(line);
                        }
                    } catch (IOException e) {
                        // a line cut off by the crash
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

    /** Puts a number, or null where it is NaN or infinite. */
    static void put(ObjectNode o, String key, double value) {
        if (Double.isFinite(value)) {
            o.put(key, value);
        } else {
            o.putNull(key);
        }
    }

    void write(ObjectNode line) {
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
