package ai.loro.core.io;

import java.lang.reflect.Array;
import java.math.BigDecimal;
import java.math.BigInteger;
import java.util.Map;

/**
 * Python's {@code json.dumps(x, ensure_ascii=False, indent=indent, separators=None, sort_keys=False)},
 * which is what transformers registers as the chat template {@code tojson} filter. Separators are
 * {@code ", "} and {@code ": "} without indent, {@code ","} and {@code ": "} with indent; non-ASCII
 * text is kept as is; control characters are escaped as Python escapes them.
 */
public final class PyJson {
    private PyJson() {}

    /** json.dumps(value) with Python's default separators and ensure_ascii=False. */
    public static String dumps(Object value) {
        return dumps(value, null);
    }

    /**
     * json.dumps(value, indent=indent). {@code indent} null means single line; a number of spaces
     * otherwise (0 means newlines without indentation, as in Python).
     */
    public static String dumps(Object value, String indent) {
        StringBuilder sb = new StringBuilder();
        write(sb, value, indent, 0);
        return sb.toString();
    }

    private static void newline(StringBuilder sb, String indent, int level) {
        sb.append('\n');
        for (int i = 0; i < level; i++) {
            sb.append(indent);
        }
    }

    private static void write(StringBuilder sb, Object v, String indent, int level) {
        if (v == null) {
            sb.append("null");
        } else if (v instanceof Boolean b) {
            sb.append(b ? "true" : "false");
        } else if (v instanceof CharSequence || v instanceof Character) {
            string(sb, v.toString());
        } else if (v instanceof Integer || v instanceof Long || v instanceof Short || v instanceof Byte
                || v instanceof BigInteger) {
            sb.append(v);
        } else if (v instanceof BigDecimal d) {
            sb.append(floatRepr(d.doubleValue()));
        } else if (v instanceof Number n) {
            sb.append(floatRepr(n.doubleValue()));
        } else if (v instanceof Map<?, ?> m) {
            if (m.isEmpty()) {
                sb.append("{}");
                return;
            }
            sb.append('{');
            boolean first = true;
            for (Map.Entry<?, ?> e : m.entrySet()) {
                if (!first) {
                    sb.append(indent == null ? ", " : ",");
                }
                first = false;
                if (indent != null) {
                    newline(sb, indent, level + 1);
                }
                Object k = e.getKey();
                string(sb, k instanceof Boolean b ? (b ? "true" : "false") : k == null ? "null" : k.toString());
                sb.append(": ");
                write(sb, e.getValue(), indent, level + 1);
            }
            if (indent != null) {
                newline(sb, indent, level);
            }
            sb.append('}');
        } else if (v instanceof Iterable<?> it) {
            if (!it.iterator().hasNext()) {
                sb.append("[]");
                return;
            }
            sb.append('[');
            boolean first = true;
            for (Object o : it) {
                if (!first) {
                    sb.append(indent == null ? ", " : ",");
                }
                first = false;
                if (indent != null) {
                    newline(sb, indent, level + 1);
                }
                write(sb, o, indent, level + 1);
            }
            if (indent != null) {
                newline(sb, indent, level);
            }
            sb.append(']');
        } else if (v.getClass().isArray()) {
            int n = Array.getLength(v);
            java.util.List<Object> list = new java.util.ArrayList<>(n);
            for (int i = 0; i < n; i++) {
                list.add(Array.get(v, i));
            }
            write(sb, list, indent, level);
        } else if (v instanceof Record r) {
            // a record (e.g. a chat message) as the dict of its components, in declaration order
            Map<String, Object> fields = new java.util.LinkedHashMap<>();
            for (java.lang.reflect.RecordComponent c : r.getClass().getRecordComponents()) {
                try {
                    fields.put(c.getName(), c.getAccessor().invoke(r));
                } catch (ReflectiveOperationException e) {
                    throw new IllegalStateException(e);
                }
            }
            write(sb, fields, indent, level);
        } else {
            string(sb, v.toString());
        }
    }

    /** Python float repr: shortest round-trip digits, "1.0", "1e+20", "1.5e-07", NaN, Infinity. */
    static String floatRepr(double d) {
        if (Double.isNaN(d)) {
            return "NaN";
        }
        if (Double.isInfinite(d)) {
            return d > 0 ? "Infinity" : "-Infinity";
        }
        if (d == 0) {
            return (1 / d < 0) ? "-0.0" : "0.0";
        }
        // Java's Double.toString gives the shortest round-trip digits (JDK 19+) or close to it;
        // reformat its mantissa/exponent the way Python's repr does (scientific when exp < -4 or >= 16).
        BigDecimal bd = new BigDecimal(Double.toString(d)).stripTrailingZeros();
        String digits = bd.unscaledValue().abs().toString();
        int exp = digits.length() - 1 - bd.scale(); // decimal exponent of the first digit
        String sign = d < 0 ? "-" : "";
        if (exp < -4 || exp >= 16) {
            String mant = digits.length() == 1 ? digits : digits.charAt(0) + "." + digits.substring(1);
            String e = (exp < 0 ? "-" : "+") + (Math.abs(exp) < 10 ? "0" : "") + Math.abs(exp);
            return sign + mant + "e" + e;
        }
        String plain = bd.abs().toPlainString();
        if (!plain.contains(".")) {
            plain = plain + ".0";
        }
        return sign + plain;
    }

    private static void string(StringBuilder sb, String s) {
        sb.append('"');
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            switch (c) {
                case '"' -> sb.append("\\\"");
                case '\\' -> sb.append("\\\\");
                case '\n' -> sb.append("\\n");
                case '\r' -> sb.append("\\r");
                case '\t' -> sb.append("\\t");
                case '\b' -> sb.append("\\b");
                case '\f' -> sb.append("\\f");
                default -> {
                    if (c < 0x20) {
                        sb.append(String.format("\\u%04x", (int) c));
                    } else {
                        sb.append(c);
                    }
                }
            }
        }
        sb.append('"');
    }
}
