package ai.loro.serve;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.ArrayList;
import java.util.List;

/** Typed reads of a request body's fields; a wrong type or value is a 400 naming the field and what is allowed. */
final class Fields {
    private final JsonNode body;

    Fields(JsonNode body) {
        this.body = body;
    }

    /** The field, or null when absent or JSON null (OpenAI treats both as "not given"). */
    JsonNode get(String name) {
        JsonNode n = body.get(name);
        return n == null || n.isNull() ? null : n;
    }

    boolean has(String name) {
        return get(name) != null;
    }

    String string(String name, String fallback) {
        JsonNode n = get(name);
        if (n == null) {
            return fallback;
        }
        if (!n.isTextual()) {
            throw ApiError.badField(name, "'" + name + "' must be a string, got " + kind(n));
        }
        return n.asText();
    }

    boolean bool(String name, boolean fallback) {
        JsonNode n = get(name);
        if (n == null) {
            return fallback;
        }
        if (!n.isBoolean()) {
            throw ApiError.badField(name, "'" + name + "' must be true or false, got " + kind(n));
        }
        return n.asBoolean();
    }

    /** An integer in [min, max]. */
    Long integer(String name, long min, long max) {
        JsonNode n = get(name);
        if (n == null) {
            return null;
        }
        if (!n.isIntegralNumber() || !n.canConvertToLong()) {
            throw ApiError.badField(name, "'" + name + "' must be an integer in " + range(min, max) + ", got " + kind(n));
        }
        long v = n.asLong();
        if (v < min || v > max) {
            throw ApiError.badField(name, "'" + name + "' must be an integer in " + range(min, max) + ", got " + v);
        }
        return v;
    }

    /** A number in [min, max]. */
    Double number(String name, double min, double max) {
        JsonNode n = get(name);
        if (n == null) {
            return null;
        }
        if (!n.isNumber()) {
            throw ApiError.badField(name, "'" + name + "' must be a number in [" + fmt(min) + ", " + fmt(max) + "], got "
                    + kind(n));
        }
        double v = n.asDouble();
        if (!(v >= min && v <= max)) {
            throw ApiError.badField(name, "'" + name + "' must be a number in [" + fmt(min) + ", " + fmt(max) + "], got "
                    + n.asText());
        }
        return v;
    }

    /** {@code stop}: a string or a list of 1..maxCount non-empty strings. */
    List<String> stop(String name, int maxCount) {
        JsonNode n = get(name);
        List<String> out = new ArrayList<>();
        if (n == null) {
            return out;
        }
        String allowed = "'" + name + "' must be a non-empty string or a list of at most " + maxCount + " non-empty strings";
        if (n.isTextual()) {
            out.add(n.asText());
        } else if (n.isArray()) {
            if (n.size() > maxCount) {
                throw ApiError.badField(name, allowed + ", got " + n.size() + " strings");
            }
            for (JsonNode s : n) {
                if (!s.isTextual()) {
                    throw ApiError.badField(name, allowed + ", got an element that is " + kind(s));
                }
                out.add(s.asText());
            }
        } else {
            throw ApiError.badField(name, allowed + ", got " + kind(n));
        }
        for (String s : out) {
            if (s.isEmpty()) {
                throw ApiError.badField(name, allowed + ", got an empty string");
            }
        }
        return out;
    }

    /** A field Loro does not support, accepted only at its no-op value. */
    void onlyDefault(String name, java.util.function.Predicate<JsonNode> isDefault, String allowed) {
        JsonNode n = get(name);
        if (n != null && !isDefault.test(n)) {
            throw ApiError.badField(name, "'" + name + "' is not supported by this server; allowed: " + allowed);
        }
    }

    static String kind(JsonNode n) {
        if (n.isTextual()) {
            return "a string";
        }
        if (n.isBoolean()) {
            return n.asText();
        }
        if (n.isNumber()) {
            return n.asText();
        }
        if (n.isArray()) {
            return "a list";
        }
        if (n.isObject()) {
            return "an object";
        }
        return n.getNodeType().toString().toLowerCase();
    }

    private static String range(long min, long max) {
        return max == Long.MAX_VALUE ? ">= " + min : min + ".." + max;
    }

    private static String fmt(double d) {
        return d == Math.rint(d) ? String.valueOf((long) d) : String.valueOf(d);
    }
}
