package ai.loro.spark.kernel;

import ai.loro.core.LoroException;
import ai.loro.core.tokenizer.ChatMessage;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.ArrayList;
import java.util.List;

/** Input lines to JSON objects, with errors that name the input file and line as {@code loro}'s commands do. */
public final class Inputs {
    private Inputs() {}

    private static final ObjectMapper JSON = new ObjectMapper();

    /** "file:line" of a row (lines count from 1, rows from 0). */
    public static String where(String input, InputRow r) {
        return input + ":" + (r.row() + 1);
    }

    public static ObjectNode parse(String input, InputRow r) {
        JsonNode node;
        try {
            node = JSON.readTree(r.line());
        } catch (JsonProcessingException e) {
            throw new LoroException(where(input, r) + ": not valid JSON: "
                    + e.getOriginalMessage().replaceAll(" \\(start marker at \\[Source.*", ""));
        }
        if (node == null || !node.isObject()) {
            throw new LoroException(where(input, r) + ": expected a JSON object per line");
        }
        return (ObjectNode) node;
    }

    /** The output row: the input's fields, then {@code row}; the job then adds its own. */
    public static ObjectNode output(ObjectNode input, long row) {
        ObjectNode o = input.deepCopy();
        o.remove("row");
        o.put("row", row);
        return o;
    }

    /** A list of integer token ids under {@code key}, or null when absent. */
    public static long[] tokenIds(ObjectNode json, String key, String where) {
        JsonNode ids = json.get(key);
        if (ids == null || ids.isNull()) {
            return null;
        }
        if (!ids.isArray()) {
            throw new LoroException(where + ": '" + key + "' must be a list of integer token ids");
        }
        long[] out = new long[ids.size()];
        for (int i = 0; i < out.length; i++) {
            JsonNode v = ids.get(i);
            if (!v.isIntegralNumber() || !v.canConvertToLong()) {
                throw new LoroException(where + ": '" + key + "'[" + i + "] = " + v + " is not an integer token id");
            }
            out[i] = v.asLong();
        }
        return out;
    }

    /** {@code [{role, content}]} under "messages". */
    public static List<ChatMessage> messages(JsonNode messages, String where) {
        if (!messages.isArray() || messages.isEmpty()) {
            throw new LoroException(where + ": 'messages' must be a non-empty list of {role, content}");
        }
        List<ChatMessage> list = new ArrayList<>();
        for (JsonNode m : messages) {
            if (!m.path("role").isTextual() || !m.path("content").isTextual()) {
                throw new LoroException(where + ": each message needs string 'role' and 'content'");
            }
            list.add(new ChatMessage(m.get("role").asText(), m.get("content").asText()));
        }
        return list;
    }
}
