package ai.loro.core.recipe;

import ai.loro.core.recipe.YamlTree.YEntry;
import ai.loro.core.recipe.YamlTree.YMap;
import ai.loro.core.recipe.YamlTree.YNode;
import ai.loro.core.recipe.YamlTree.YScalar;
import ai.loro.core.recipe.YamlTree.YSeq;
import ai.loro.core.LoroException;
import ai.loro.core.io.HubCache;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.function.Function;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.function.DoublePredicate;
import java.util.regex.Pattern;

/**
 * The declarative part of recipe validation: value types (each knows how to read a node and how to
 * describe what it accepts) and blocks (a table of key → type, default, required). The tables are made
 * from {@link Key} declarations by {@link RecordBlock}.
 */
final class Schema {
    private Schema() {}

    /**
     * What a read needs besides the node: the recipe's folder (for paths), the data set types, and the environment
     * variables (for the Hugging Face cache; a map in tests).
     */
    record Ctx(Path baseDir, Collection<String> datasetTypes, Collection<String> stages, Function<String, String> env) {
        Ctx(Path baseDir, Collection<String> datasetTypes) {
            this(baseDir, datasetTypes, List.of(), System::getenv);
        }
    }

    /** A value type: reads a non-null node at {@code key} (a dotted path) into a Java value. */
    interface Type {
        Object read(YNode node, String key, Ctx ctx);
    }

    /** A check across the fields of one block, run after they are read (e.g. mutual exclusion). */
    interface Check {
        void check(YMap node, Map<String, Object> values, String path);
    }

    record Field(String key, Type type, Object dflt, boolean required) {}

    /** One block of keys. {@code name} is how messages call it ("the top level", "'adapter'"). */
    record Block(List<Field> fields, Check check) {
        List<String> allowed() {
            return fields.stream().map(Field::key).sorted().toList();
        }

        Field field(String key) {
            for (Field f : fields) {
                if (f.key().equals(key)) {
                    return f;
                }
            }
            return null;
        }
    }

    static Field req(String key, Type type) {
        return new Field(key, type, null, true);
    }

    static Field opt(String key, Type type, Object dflt) {
        return new Field(key, type, dflt, false);
    }

    static Field opt(String key, Type type) {
        return new Field(key, type, null, false);
    }

    static Block block(Field... fields) {
        return new Block(List.of(fields), (n, v, p) -> {});
    }

    static Block block(Check check, Field... fields) {
        return new Block(List.of(fields), check);
    }

    // ---------------------------------------------------------------- reading blocks

    /** Where a block sits, for messages: "the top level" or "'adapter'". */
    static String blockName(String path) {
        return path.isEmpty() ? "the top level" : "'" + path + "'";
    }

    static String child(String path, String key) {
        return path.isEmpty() ? key : path + "." + key;
    }

    /**
     * Reads a mapping against a block: unknown keys fail (in document order, with a suggestion),
     * present keys are read by their type, absent ones take their default (null when none), missing
     * required ones fail. Returns the values in table order.
     */
    static Map<String, Object> readBlock(Block block, YMap map, String path, Ctx ctx) {
        Map<String, Object> read = new LinkedHashMap<>();
        for (Map.Entry<String, YEntry> e : map.entries().entrySet()) {
            String key = e.getKey();
            Field f = block.field(key);
            if (f == null) {
                throw new LoroException(e.getValue().keyWhere() + ": unknown key '" + key + "' in "
                        + blockName(path) + " (allowed: " + String.join(", ", block.allowed())
                        + suggestion(key, block.allowed()) + ")");
            }
            YNode v = e.getValue().value();
            if (YamlTree.isNull(v) && f.required()) {
                throw new LoroException(e.getValue().keyWhere() + ": required key '" + child(path, key)
                        + "' has no value");
            }
            if (!YamlTree.isNull(v)) {
                read.put(key, f.type().read(v, child(path, key), ctx));
            }
        }
        Map<String, Object> values = new LinkedHashMap<>();
        List<String> required = block.fields().stream().filter(Field::required).map(Field::key).toList();
        for (Field f : block.fields()) {
            if (read.containsKey(f.key())) {
                values.put(f.key(), read.get(f.key()));
            } else if (f.required()) {
                throw new LoroException(map.where() + ": missing required key '" + f.key() + "' in "
                        + blockName(path) + " (required: " + String.join(", ", required) + ")");
            } else {
                values.put(f.key(), f.type() instanceof BlockType bt && f.dflt() == null
                        ? bt.defaults(child(path, f.key()), ctx) : f.dflt());
            }
        }
        block.check().check(map, values, path);
        return values;
    }

    // ---------------------------------------------------------------- types

    static LoroException wrong(YNode n, String key, String expected) {
        return new LoroException(n.where() + ": '" + key + "' must be " + expected + ", got " + YamlTree.describe(n));
    }

    private static String scalarText(YNode n, String key, String expected) {
        if (n instanceof YScalar s) {
            return s.text().trim();
        }
        throw wrong(n, key, expected);
    }

    private static final Pattern INT = Pattern.compile("[-+]?[0-9][0-9_]*");
    private static final Pattern NUM = Pattern.compile("[-+]?([0-9][0-9_]*(\\.[0-9_]*)?|\\.[0-9][0-9_]*)([eE][-+]?[0-9]+)?");

    /** An integer ≥ {@code min}. */
    static Type integer(long min, String expected) {
        return (n, key, ctx) -> {
            String t = scalarText(n, key, expected);
            if (!INT.matcher(t).matches()) {
                throw wrong(n, key, expected);
            }
            long v;
            try {
                v = Long.parseLong(t.replace("_", ""));
            } catch (NumberFormatException e) {
                throw wrong(n, key, expected);
            }
            if (v < min || v > Integer.MAX_VALUE) {
                throw wrong(n, key, expected);
            }
            return (int) v;
        };
    }


    static double parseNumber(YNode n, String key, String expected) {
        String t = scalarText(n, key, expected);
        if (!NUM.matcher(t).matches()) {
            throw wrong(n, key, expected);
        }
        return Double.parseDouble(t.replace("_", ""));
    }

    /** A finite number that {@code ok} accepts. */
    static Type number(DoublePredicate ok, String expected) {
        return (n, key, ctx) -> {
            double v = parseNumber(n, key, expected);
            if (!ok.test(v)) {
                throw wrong(n, key, expected);
            }
            return v;
        };
    }


    static final Type BOOL = (n, key, ctx) -> {
        String t = scalarText(n, key, "true or false").toLowerCase(Locale.ROOT);
        return switch (t) {
            case "true", "yes", "on" -> true;
            case "false", "no", "off" -> false;
            default -> throw wrong(n, key, "true or false");
        };
    };

    /** A non-empty string. */
    static final Type STRING = (n, key, ctx) -> {
        String t = scalarText(n, key, "a string");
        if (t.isEmpty()) {
            throw wrong(n, key, "a non-empty string");
        }
        return t;
    };

    /** A path; relative ones resolve against the recipe's folder, {@code ~/} against the home folder. */
    static final Type PATH = (n, key, ctx) -> {
        String t = scalarText(n, key, "a path");
        if (t.isEmpty()) {
            throw wrong(n, key, "a non-empty path");
        }
        Path p;
        try {
            if (t.equals("~") || t.startsWith("~/")) {
                p = Path.of(System.getProperty("user.home")).resolve(t.equals("~") ? "" : t.substring(2));
            } else {
                p = Path.of(t);
            }
        } catch (RuntimeException e) {
            throw wrong(n, key, "a valid path");
        }
        return ctx.baseDir().resolve(p).toAbsolutePath().normalize();
    };

    /**
     * A model folder: a path as {@link #PATH} when it exists, else a Hugging Face Hub id ({@code org/name[@rev]})
     * found in the local Hub cache ({@link HubCache}); a Hub id that is in neither is an error naming the paths
     * tried. Any other missing path is returned as it is, for the stage's own message.
     */
    static final Type MODEL = (n, key, ctx) -> {
        Path p = (Path) PATH.read(n, key, ctx);
        if (Files.exists(p)) {
            return p;
        }
        String t = scalarText(n, key, "a path");
        try {
            return HubCache.resolve(t, ctx.baseDir(), ctx.env());
        } catch (LoroException e) {
            throw new LoroException(n.where() + ": '" + key + "': " + t + " is " + e.getMessage(), e);
        }
    };

    /** One of a fixed set of names, matched ignoring case; returns the canonical spelling. */
    static Type choice(Collection<String> names) {
        return (n, key, ctx) -> readChoice(n, key, names);
    }

    static String readChoice(YNode n, String key, Collection<String> names) {
        String expected = "one of " + String.join("|", names);
        String t = scalarText(n, key, expected);
        for (String name : names) {
            if (name.equalsIgnoreCase(t)) {
                return name;
            }
        }
        throw new LoroException(n.where() + ": '" + key + "' must be " + expected + ", got "
                + YamlTree.describe(n) + suggestionParen(t, names));
    }

    /** A Java enum whose constants are written in lower case (or as is, for dtypes). */
    static <E extends Enum<E>> Type enumOf(Class<E> type, java.util.function.Function<E, String> yamlName) {
        List<String> names = new ArrayList<>();
        for (E e : type.getEnumConstants()) {
            names.add(yamlName.apply(e));
        }
        return (n, key, ctx) -> {
            String name = readChoice(n, key, names);
            return type.getEnumConstants()[names.indexOf(name)];
        };
    }

    /** The data set {@code type}: one of the types the caller knows. */
    static final Type DATASET_TYPE = (n, key, ctx) -> readChoice(n, key, ctx.datasetTypes());

    /** The {@code stage}: one of the stages the loader knows. */
    static final Type STAGE = (n, key, ctx) -> readChoice(n, key, ctx.stages());

    /** 0, a fraction in (0, 1), or a whole count >= 1 ({@code val_set_size}). */
    static final Type FRACTION_OR_COUNT = (n, key, ctx) -> {
        String expected = Key.Is.FRACTION_OR_COUNT.number;
        double v = parseNumber(n, key, expected);
        if (v < 0 || (v >= 1 && v != Math.rint(v)) || Double.isInfinite(v)) {
            throw wrong(n, key, expected);
        }
        return v;
    };

    /** A nested block, read into what {@code build} makes of its values; an absent block reads as all its defaults. */
    record BlockType(Block block, Function<Map<String, Object>, Object> build) implements Type {
        BlockType(Block block) {
            this(block, values -> values);
        }

        @Override
        public Object read(YNode n, String key, Ctx ctx) {
            if (!(n instanceof YMap m)) {
                throw wrong(n, key, "a block of keys (" + String.join(", ", block.allowed()) + ")");
            }
            return build.apply(readBlock(block, m, key, ctx));
        }

        Object defaults(String key, Ctx ctx) {
            return build.apply(readBlock(block, new YMap(new LinkedHashMap<>(), "(defaults)"), key, ctx));
        }
    }

    /** A list of {@code item}s; {@code nonEmpty} makes an empty list an error. */
    static Type listOf(Type item, boolean nonEmpty, String expected) {
        return (n, key, ctx) -> {
            if (!(n instanceof YSeq s)) {
                throw wrong(n, key, expected);
            }
            if (nonEmpty && s.items().isEmpty()) {
                throw wrong(n, key, expected + " (at least one)");
            }
            List<Object> out = new ArrayList<>();
            for (int i = 0; i < s.items().size(); i++) {
                YNode item0 = s.items().get(i);
                String k = key + "." + i;
                if (YamlTree.isNull(item0)) {
                    throw wrong(item0, k, "set (an empty list entry)");
                }
                out.add(item.read(item0, k, ctx));
            }
            return List.copyOf(out);
        };
    }

    /** A list of distinct names from {@code names}, or the single word {@code all} (which expands to all of them). */
    static Type namesOrAll(List<String> names, String all) {
        String expected = "a list of " + String.join(", ", names) + " or the string '" + all + "'";
        return (n, key, ctx) -> {
            if (n instanceof YScalar s) {
                if (s.text().trim().equalsIgnoreCase(all)) {
                    return names;
                }
                throw new LoroException(n.where() + ": '" + key + "' must be " + expected + ", got "
                        + YamlTree.describe(n) + suggestionParen(s.text().trim(), List.of(all)));
            }
            if (!(n instanceof YSeq seq)) {
                throw wrong(n, key, expected);
            }
            if (seq.items().isEmpty()) {
                throw wrong(n, key, expected + " (at least one)");
            }
            Set<String> seen = new HashSet<>();
            List<String> out = new ArrayList<>();
            for (int i = 0; i < seq.items().size(); i++) {
                YNode item = seq.items().get(i);
                String name = readChoice(item, key + "." + i, names);
                if (!seen.add(name)) {
                    throw new LoroException(item.where() + ": '" + key + "' lists '" + name + "' twice");
                }
                out.add(name);
            }
            return List.copyOf(out);
        };
    }

    // ---------------------------------------------------------------- suggestions

    /** "; did you mean 'x'?" for the closest name within a small edit distance, else "". */
    static String suggestion(String given, Collection<String> names) {
        String best = closest(given, names);
        return best == null ? "" : "; did you mean '" + best + "'?";
    }

    static String suggestionParen(String given, Collection<String> names) {
        String best = closest(given, names);
        return best == null ? "" : " (did you mean '" + best + "'?)";
    }

    static String closest(String given, Collection<String> names) {
        String g = given.toLowerCase(Locale.ROOT).replace('-', '_');
        String best = null;
        int bestD = Integer.MAX_VALUE;
        for (String name : names) {
            int d = distance(g, name.toLowerCase(Locale.ROOT).replace('-', '_'));
            if (d < bestD) {
                best = name;
                bestD = d;
            }
        }
        int limit = Math.max(1, Math.min(3, given.length() / 3));
        return bestD <= limit ? best : null;
    }

    /** Optimal-string-alignment distance: Levenshtein plus adjacent transpositions. */
    static int distance(String a, String b) {
        int[][] d = new int[a.length() + 1][b.length() + 1];
        for (int i = 0; i <= a.length(); i++) {
            d[i][0] = i;
        }
        for (int j = 0; j <= b.length(); j++) {
            d[0][j] = j;
        }
        for (int i = 1; i <= a.length(); i++) {
            for (int j = 1; j <= b.length(); j++) {
                int cost = a.charAt(i - 1) == b.charAt(j - 1) ? 0 : 1;
                d[i][j] = Math.min(Math.min(d[i - 1][j] + 1, d[i][j - 1] + 1), d[i - 1][j - 1] + cost);
                if (i > 1 && j > 1 && a.charAt(i - 1) == b.charAt(j - 2) && a.charAt(i - 2) == b.charAt(j - 1)) {
                    d[i][j] = Math.min(d[i][j], d[i - 2][j - 2] + 1);
                }
            }
        }
        return d[a.length()][b.length()];
    }
}
