package ai.loro.core.io;

import ai.loro.core.LoroException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;

/**
 * Typed fields of a JSON object read from a file (config.json, adapter_config.json,
 * tokenizer_config.json, generation_config.json), each wrong value one line naming the source and the
 * key: {@code <source>: '<key>' must be <what is allowed>, got <value>}. Absent and null fields take the
 * default.
 */
public final class JsonFields {
    private static final ObjectMapper JSON = new ObjectMapper();

    private final JsonNode node;
    private final String source;

    public JsonFields(JsonNode node, String source) {
        this.node = node;
        this.source = source;
    }

    /** The JSON object in {@code file}, or a one-line error naming it. */
    public static JsonNode readObject(Path file) {
        return readObject(file, "file not found");
    }

    /** {@link #readObject(Path)} with what to say when the file is absent. */
    public static JsonNode readObject(Path file, String whenMissing) {
        if (!Files.isRegularFile(file)) {
            throw new LoroException(file + ": " + whenMissing);
        }
        JsonNode root;
        try {
            root = JSON.readTree(file.toFile());
        } catch (IOException e) {
            throw new LoroException(file + ": not valid JSON: " + LoroException.oneLine(e.getMessage(), 200), e);
        }
        if (root == null || !root.isObject()) {
            throw new LoroException(file + ": must hold a JSON object");
        }
        return root;
    }

    public JsonNode node() {
        return node;
    }

    public String source() {
        return source;
    }

    public boolean has(String key) {
        JsonNode v = node.get(key);
        return v != null && !v.isNull();
    }

    /** The value, or null when absent or null. */
    public JsonNode get(String key) {
        JsonNode v = node.get(key);
        return v == null || v.isNull() ? null : v;
    }

    private JsonNode required(String key) {
        JsonNode v = get(key);
        if (v == null) {
            throw new LoroException(source + ": missing required key '" + key + "'");
        }
        return v;
    }

    private LoroException wrong(String key, String allowed, JsonNode v) {
        return new LoroException(source + ": '" + key + "' must be " + allowed + ", got " + LoroException.oneLine(v.toString(), 120));
    }

    /** @param dflt the value when absent; null makes the key required */
    public int positiveInt(String key, Integer dflt) {
        if (get(key) == null && dflt != null) {
            return dflt;
        }
        JsonNode v = required(key);
        if (!v.isIntegralNumber() || !v.canConvertToInt() || v.asInt() <= 0) {
            throw wrong(key, "a positive integer", v);
        }
        return v.asInt();
    }

    public Integer optionalPositiveInt(String key) {
        return get(key) == null ? null : positiveInt(key, null);
    }

    public int integer(String key, int dflt) {
        JsonNode v = get(key);
        if (v == null) {
            return dflt;
        }
        if (!v.isIntegralNumber() || !v.canConvertToInt()) {
            throw wrong(key, "an integer", v);
        }
        return v.asInt();
    }

    /** @param dflt the value when absent; null makes the key required */
    public double positiveDouble(String key, Double dflt) {
        if (get(key) == null && dflt != null) {
            return dflt;
        }
        JsonNode v = required(key);
        if (!v.isNumber() || !(v.asDouble() > 0) || Double.isInfinite(v.asDouble())) {
            throw wrong(key, "a positive number", v);
        }
        return v.asDouble();
    }

    public double number(String key, double dflt) {
        JsonNode v = get(key);
        if (v == null) {
            return dflt;
        }
        if (!v.isNumber()) {
            throw wrong(key, "a number", v);
        }
        return v.asDouble();
    }

    public boolean bool(String key, boolean dflt) {
        Boolean b = optionalBool(key);
        return b == null ? dflt : b;
    }

    /** true, false, or null when absent. */
    public Boolean optionalBool(String key) {
        JsonNode v = get(key);
        if (v == null) {
            return null;
        }
        if (!v.isBoolean()) {
            throw wrong(key, "true or false", v);
        }
        return v.asBoolean();
    }

    public String string(String key, String dflt) {
        JsonNode v = get(key);
        if (v == null) {
            return dflt;
        }
        if (!v.isTextual()) {
            throw wrong(key, "a string", v);
        }
        return v.asText();
    }

    private long tokenId(JsonNode v, String key, int vocab, boolean listAllowed) {
        if (!v.isIntegralNumber() || v.asLong() < 0 || v.asLong() >= vocab) {
            throw wrong(key, "a token id in [0, " + vocab + ")" + (listAllowed ? " or a list of them" : ""), v);
        }
        return v.asLong();
    }

    /** One token id below {@code vocab}, or null when absent. */
    public Long optionalTokenId(String key, int vocab) {
        JsonNode v = get(key);
        if (v != null && v.isArray()) {
            throw wrong(key, "one token id in [0, " + vocab + ")", v);
        }
        return v == null ? null : tokenId(v, key, vocab, false);
    }

    /** A token id or a list of them (as eos_token_id is written), in order, without repeats; empty when absent. */
    public List<Long> tokenIds(String key, int vocab) {
        JsonNode v = get(key);
        if (v == null) {
            return List.of();
        }
        List<Long> out = new ArrayList<>();
        if (v.isArray()) {
            for (JsonNode e : v) {
                out.add(tokenId(e, key, vocab, true));
            }
        } else {
            out.add(tokenId(v, key, vocab, true));
        }
        return List.copyOf(new LinkedHashSet<>(out));
    }
}
