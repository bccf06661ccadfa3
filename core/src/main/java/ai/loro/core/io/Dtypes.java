package ai.loro.core.io;

import java.util.LinkedHashMap;
import java.util.Map;

/** The safetensors dtype strings, in the format's declared (alignment) order, with bit sizes. */
final class Dtypes {
    private Dtypes() {}

    /** dtype -> bits, insertion order = the enum order of the format (increasing alignment). */
    static final Map<String, Integer> BITS = new LinkedHashMap<>();
    private static final Map<String, Integer> ORDER = new LinkedHashMap<>();

    static {
        Object[][] table = {
            {"BOOL", 8}, {"F4", 4}, {"F6_E2M3", 6}, {"F6_E3M2", 6}, {"U8", 8}, {"I8", 8},
            {"F8_E5M2", 8}, {"F8_E4M3", 8}, {"F8_E8M0", 8}, {"F8_E4M3FNUZ", 8}, {"F8_E5M2FNUZ", 8},
            {"I16", 16}, {"U16", 16}, {"F16", 16}, {"BF16", 16}, {"I32", 32}, {"U32", 32},
            {"F32", 32}, {"C64", 64}, {"F64", 64}, {"I64", 64}, {"U64", 64},
        };
        for (Object[] row : table) {
            ORDER.put((String) row[0], ORDER.size());
            BITS.put((String) row[0], (Integer) row[1]);
        }
    }

    static boolean known(String dtype) {
        return BITS.containsKey(dtype);
    }

    static int bits(String dtype) {
        return BITS.get(dtype);
    }

    /** Position in the format's enum; a larger value sorts first when writing. */
    static int order(String dtype) {
        return ORDER.get(dtype);
    }

    static String knownList() {
        return String.join(", ", BITS.keySet());
    }

    /** Quotes a user string for a one-line message: escapes controls and quotes, cuts long text. */
    static String q(String s) {
        if (s == null) {
            return "null";
        }
        StringBuilder b = new StringBuilder("\"");
        int limit = Math.min(s.length(), 200);
        for (int i = 0; i < limit; i++) {
            char c = s.charAt(i);
            if (c == '"' || c == '\\') {
                b.append('\\').append(c);
            } else if (c < 0x20 || c == 0x7F || c == 0x2028 || c == 0x2029) {
                b.append(String.format("\\u%04x", (int) c));
            } else {
                b.append(c);
            }
        }
        if (s.length() > limit) {
            b.append("...");
        }
        return b.append('"').toString();
    }

    /** A one-line version of an exception message. */
}
