package ai.loro.core.recipe;

import ai.loro.core.recipe.Key.Is;
import ai.loro.core.recipe.Schema.Block;
import ai.loro.core.recipe.Schema.BlockType;
import ai.loro.core.recipe.Schema.Ctx;
import ai.loro.core.recipe.Schema.Field;
import ai.loro.core.recipe.Schema.Type;
import java.lang.reflect.Constructor;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.ParameterizedType;
import java.lang.reflect.RecordComponent;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalDouble;
import java.util.OptionalInt;

/**
 * A record whose {@link Key}-annotated components are the keys of one recipe block: from those declarations it
 * makes the validation table ({@link #block()}), builds the record from the values read ({@link #build}) and turns
 * a record back into the map that {@code recipe.yaml} is written from ({@link #write}). Keys keep the components'
 * order. Components without {@link Key} are not keys; {@link #build} takes their values from its caller.
 */
final class RecordBlock<T extends Record> {
    private final Class<T> type;
    private final List<RecordComponent> keys;
    private final Block block;

    private RecordBlock(Class<T> type, Schema.Check check) {
        this.type = type;
        this.keys = Arrays.stream(type.getRecordComponents()).filter(c -> c.isAnnotationPresent(Key.class)).toList();
        List<Field> fields = new ArrayList<>();
        for (RecordComponent c : keys) {
            Key k = c.getAnnotation(Key.class);
            Type t = typeOf(c.getGenericType(), k);
            Object dflt = k.dflt().equals(Key.NONE) ? null
                    : t.read(YamlTree.parseValue(k.dflt(), type.getSimpleName() + "." + c.getName()),
                            yamlName(c), DEFAULTS_CTX);
            fields.add(new Field(yamlName(c), t, dflt, k.required()));
        }
        this.block = new Block(List.copyOf(fields), (node, values, path) -> {
            checkExclusions(keys, node);
            check.check(node, values, path);
        });
    }

    /** Two keys of which one {@link Key#excludes} the other, both set: an error at the later one. */
    private static void checkExclusions(List<RecordComponent> keys, YamlTree.YMap node) {
        for (RecordComponent c : keys) {
            String other = c.getAnnotation(Key.class).excludes();
            if (other.isEmpty()) {
                continue;
            }
            String self = yamlName(c);
            YamlTree.YEntry a = node.entries().get(other);
            YamlTree.YEntry b = node.entries().get(self);
            if (a != null && b != null && !YamlTree.isNull(a.value()) && !YamlTree.isNull(b.value())) {
                YamlTree.YEntry later = b;
                for (String k : node.entries().keySet()) {
                    if (k.equals(self) || k.equals(other)) {
                        later = k.equals(self) ? a : b; // the first one met; the later is the other
                        break;
                    }
                }
                throw new ai.loro.core.LoroException(later.keyWhere() + ": '" + other + "' and '" + self
                        + "' are mutually exclusive (set one of them)");
            }
        }
    }

    /** Defaults are numbers, names and lists: nothing in them reads the folder or the environment. */
    private static final Ctx DEFAULTS_CTX = new Ctx(Path.of("/"), List.of(), List.of(), name -> null);

    static <T extends Record> RecordBlock<T> of(Class<T> type) {
        return new RecordBlock<>(type, (n, v, p) -> {});
    }

    static <T extends Record> RecordBlock<T> of(Class<T> type, Schema.Check check) {
        return new RecordBlock<>(type, check);
    }

    Block block() {
        return block;
    }

    /** This block nested under a key: reads straight into the record. */
    BlockType nested() {
        return new BlockType(block, this::build);
    }

    /** A key's YAML name: the component's name in snake_case. */
    static String yamlName(RecordComponent c) {
        return c.getName().replaceAll("([A-Z])", "_$1").toLowerCase(java.util.Locale.ROOT);
    }

    // ---------------------------------------------------------------- reading

    /** The record from the values {@link Schema#readBlock} read for {@link #block()}; {@code others} fill the components that are not keys, in order. */
    T build(Map<String, Object> values, Object... others) {
        RecordComponent[] all = type.getRecordComponents();
        Object[] args = new Object[all.length];
        int other = 0;
        for (int i = 0; i < all.length; i++) {
            RecordComponent c = all[i];
            args[i] = c.isAnnotationPresent(Key.class) ? component(c, values.get(yamlName(c))) : others[other++];
        }
        try {
            Constructor<T> ctor = type.getDeclaredConstructor(Arrays.stream(all).map(RecordComponent::getType)
                    .toArray(Class<?>[]::new));
            ctor.setAccessible(true);
            return ctor.newInstance(args);
        } catch (InvocationTargetException e) {
            if (e.getCause() instanceof RuntimeException re) {
                throw re;
            }
            throw new IllegalStateException(type + ": cannot build the record", e.getCause());
        } catch (ReflectiveOperationException e) {
            throw new IllegalStateException(type + ": cannot build the record", e);
        }
    }

    /** A read value as the component's Java type: empty Optionals for absent keys, empty lists for absent lists. */
    private static Object component(RecordComponent c, Object v) {
        Class<?> raw = c.getType();
        if (raw == Optional.class) {
            return Optional.ofNullable(v);
        }
        if (raw == OptionalInt.class) {
            return v == null ? OptionalInt.empty() : OptionalInt.of((Integer) v);
        }
        if (raw == OptionalDouble.class) {
            return v == null ? OptionalDouble.empty() : OptionalDouble.of((Double) v);
        }
        if (raw == List.class && v == null) {
            return List.of();
        }
        return v;
    }

    /** The reader for a component's Java type and its {@link Key}. */
    private static Type typeOf(java.lang.reflect.Type generic, Key k) {
        Class<?> raw = rawClass(generic);
        if (raw == Optional.class) {
            return typeOf(argument(generic), k);
        }
        if (raw == int.class || raw == Integer.class || raw == OptionalInt.class) {
            if (k.is().integer == null) {
                throw misdeclared(k, "an int");
            }
            return Schema.integer(k.is().min, k.is().integer);
        }
        if (raw == double.class || raw == Double.class || raw == OptionalDouble.class) {
            if (k.is() == Is.FRACTION_OR_COUNT) {
                return Schema.FRACTION_OR_COUNT;
            }
            if (k.is().test == null) {
                throw misdeclared(k, "a double");
            }
            return Schema.number(k.is().test, k.is().number);
        }
        if (raw == boolean.class || raw == Boolean.class) {
            return Schema.BOOL;
        }
        if (raw == String.class) {
            if (k.is() == Is.DATASET_TYPE) {
                return Schema.DATASET_TYPE;
            }
            if (k.is() == Is.STAGE) {
                return Schema.STAGE;
            }
            return k.choices().isEmpty() ? Schema.STRING : Schema.choice(List.of(k.choices().split("\\|")));
        }
        if (raw == Path.class) {
            return k.is() == Is.MODEL ? Schema.MODEL : Schema.PATH;
        }
        if (raw.isEnum() && RecipeEnum.class.isAssignableFrom(raw)) {
            return enumType(raw);
        }
        if (raw.isRecord()) {
            return of(raw.asSubclass(Record.class)).nested();
        }
        if (raw == List.class) {
            if (k.is() == Is.TARGET_MODULES) {
                return Schema.namesOrAll(Recipe.TARGET_MODULES, "all-linear");
            }
            return Schema.listOf(typeOf(argument(generic), k), k.nonEmpty(), k.list());
        }
        throw misdeclared(k, raw.getName());
    }

    @SuppressWarnings({"unchecked", "rawtypes"})
    private static Type enumType(Class<?> raw) {
        return Schema.enumOf((Class) raw, e -> ((RecipeEnum) e).yamlName());
    }

    private static IllegalStateException misdeclared(Key k, String what) {
        return new IllegalStateException("@Key(" + k.doc() + "): is=" + k.is() + " does not apply to " + what);
    }

    private static Class<?> rawClass(java.lang.reflect.Type t) {
        return t instanceof ParameterizedType p ? (Class<?>) p.getRawType() : (Class<?>) t;
    }

    private static java.lang.reflect.Type argument(java.lang.reflect.Type t) {
        return ((ParameterizedType) t).getActualTypeArguments()[0];
    }

    // ---------------------------------------------------------------- writing

    /**
     * The record's keys as YAML values in declaration order: paths as text, enums by {@link RecipeEnum#yamlName()},
     * nested records as maps; an empty {@code Optional*} is left out, and so is an empty list that has no default.
     */
    static Map<String, Object> write(Record r) {
        Map<String, Object> m = new LinkedHashMap<>();
        for (RecordComponent c : r.getClass().getRecordComponents()) {
            Key k = c.getAnnotation(Key.class);
            if (k == null) {
                continue;
            }
            Object v;
            try {
                v = c.getAccessor().invoke(r);
            } catch (ReflectiveOperationException e) {
                throw new IllegalStateException(c + ": cannot read", e);
            }
            Object y = yaml(v);
            boolean emptyListWithoutDefault = y instanceof List<?> l && l.isEmpty() && k.dflt().equals(Key.NONE);
            if (y != null && !emptyListWithoutDefault) {
                m.put(yamlName(c), y);
            }
        }
        for (RecordComponent c : r.getClass().getRecordComponents()) {
            Key k = c.getAnnotation(Key.class);
            if (k != null && !k.excludes().isEmpty() && m.containsKey(yamlName(c))) {
                m.remove(k.excludes()); // this one is what ran
            }
        }
        return m;
    }

    private static Object yaml(Object v) {
        if (v instanceof Optional<?> o) {
            return o.map(RecordBlock::yaml).orElse(null);
        }
        if (v instanceof OptionalInt o) {
            return o.isPresent() ? o.getAsInt() : null;
        }
        if (v instanceof OptionalDouble o) {
            return o.isPresent() ? o.getAsDouble() : null;
        }
        if (v instanceof Path p) {
            return p.toString();
        }
        if (v instanceof RecipeEnum e) {
            return e.yamlName();
        }
        if (v instanceof Record rec) {
            return write(rec);
        }
        if (v instanceof List<?> l) {
            // a fresh list each time: SnakeYAML dumps one list object met twice as an alias (&id001 ... *id001)
            List<Object> out = new ArrayList<>();
            l.forEach(x -> out.add(yaml(x)));
            return out;
        }
        return v;
    }
}
