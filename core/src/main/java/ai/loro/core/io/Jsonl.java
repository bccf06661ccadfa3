package ai.loro.core.io;

import ai.loro.core.LoroException;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.BufferedReader;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/** JSON Lines: one JSON object per non-blank line; errors name the file and line. */
public final class Jsonl {
    private Jsonl() {}

    private static final ObjectMapper JSON = new ObjectMapper();

    /** A parsed line and where it came from, for error messages. */
    public record Line(Path file, int number, JsonNode json) {
        public String where() {
            return file + ":" + number;
        }
    }

    public static List<Line> read(Path file) {
        if (!Files.isRegularFile(file)) {
            throw new LoroException(file + ": file not found");
        }
        List<Line> out = new ArrayList<>();
        try (BufferedReader r = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
            String text;
            int n = 0;
            while ((text = r.readLine()) != null) {
                n++;
                if (text.isBlank()) {
                    continue;
                }
                JsonNode node;
                try {
                    node = JSON.readTree(text);
                } catch (JsonProcessingException e) {
                    throw new LoroException(file + ":" + n + ": not valid JSON: "
                            + e.getOriginalMessage().replaceAll(" \\(start marker at \\[Source.*", ""));
                }
                if (node == null || !node.isObject()) {
                    throw new LoroException(file + ":" + n + ": expected a JSON object per line");
                }
                out.add(new Line(file, n, node));
            }
        } catch (java.nio.charset.MalformedInputException e) {
            throw new LoroException(file + ": not UTF-8 text");
        } catch (IOException e) {
            throw new LoroException(file + ": cannot read: " + e.getMessage());
        }
        return out;
    }

    /** A list of integer token ids under {@code key}, or null when the key is absent. */
    public static long[] tokenIds(Line line, String key) {
        JsonNode ids = line.json().get(key);
        if (ids == null || ids.isNull()) {
            return null;
        }
        if (!ids.isArray()) {
            throw new LoroException(line.where() + ": '" + key + "' must be a list of integer token ids");
        }
        long[] out = new long[ids.size()];
        for (int i = 0; i < out.length; i++) {
            JsonNode v = ids.get(i);
            if (!v.isIntegralNumber() || !v.canConvertToLong()) {
                throw new LoroException(line.where() + ": '" + key + "'[" + i + "] = " + v + " is not an integer token id");
            }
            out[i] = v.asLong();
        }
        return out;
    }
}
