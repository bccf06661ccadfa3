package ai.loro.core.recipe;

import ai.loro.core.recipe.Key.Is;
import java.lang.reflect.ParameterizedType;
import java.lang.reflect.RecordComponent;
import java.lang.reflect.Type;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import java.util.OptionalDouble;
import java.util.OptionalInt;
import java.util.stream.Collectors;

/**
 * docs/recipes.md, made from the {@link Key} declarations of {@link Recipe} and of a {@link RecipeSchema}'s stage
 * blocks: one table row per key (its YAML name, type, default, allowed values and doc line), nested blocks as dotted
 * names ({@code adapter.r}, {@code datasets[].path}). Nothing here names a key.
 */
public final class RecipeDocs {
    private RecipeDocs() {}

    /** One key as docs/recipes.md lists it. */
    public record Row(String key, String type, String dflt, String allowed, String doc) {}

    /** The whole page: the top-level keys, then each stage block in schema order. */
    public static String markdown(RecipeSchema schema, String regenerate) {
        StringBuilder b = new StringBuilder();
        b.append("# Recipe keys\n\n");
        b.append("Every key a recipe may set, generated from the `@Key` declarations (the top level in\n");
        b.append("`core/.../recipe/Recipe.java`, each stage's block in its module) by `RecipeDocs`: do not edit by hand.\n");
        b.append("A test fails when this file differs from the declarations; regenerate it with\n");
        b.append("`").append(regenerate).append("`.\n\n");
        b.append("Defaults are filled in and written to the run's `recipe.yaml`; a key without a default is unset\n");
        b.append("unless the recipe sets it (and is then left out of `recipe.yaml`). Names are matched exactly; the\n");
        b.append("listed values of a choice ignore case. `--set key=value` reaches any key, dotted as below\n");
        b.append("(`datasets[]` is `datasets.N`).\n\n");
        b.append("## Top level\n\n");
        table(b, rows(Recipe.class, "", schema));
        for (RecipeBlock<?> block : schema.blocks()) {
            b.append("\n## `").append(block.name()).append(":`\n\n");
            b.append("Declared by `").append(block.type().getName()).append("`; absent = every default.\n\n");
            table(b, rows(block.type(), block.name() + ".", schema));
        }
        return b.toString();
    }

    /** The rows of one record's keys under {@code prefix}, nested records expanded after their own row. */
    public static List<Row> rows(Class<? extends Record> type, String prefix, RecipeSchema schema) {
        List<Row> out = new ArrayList<>();
        for (RecordComponent c : type.getRecordComponents()) {
            Key k = c.getAnnotation(Key.class);
            if (k == null) {
                continue;
            }
            String name = prefix + RecordBlock.yamlName(c);
            Type g = c.getGenericType();
            out.add(new Row(name, type(g, k), dflt(c.getType(), k), allowed(g, k, schema), k.doc()));
            Class<?> raw = raw(g);
            if (raw.isRecord()) {
                out.addAll(rows(raw.asSubclass(Record.class), name + ".", schema));
            } else if (raw == List.class && raw(argument(g)).isRecord()) {
                out.addAll(rows(raw(argument(g)).asSubclass(Record.class), name + "[].", schema));
            }
        }
        return out;
    }

    private static void table(StringBuilder b, List<Row> rows) {
        b.append("| key | type | default | allowed | what it does |\n");
        b.append("|---|---|---|---|---|\n");
        for (Row r : rows) {
            b.append("| `").append(r.key()).append("` | ").append(cell(r.type())).append(" | ").append(cell(r.dflt()))
                    .append(" | ").append(cell(r.allowed())).append(" | ").append(cell(r.doc())).append(" |\n");
        }
    }

    private static String cell(String s) {
        return s.replace("|", "\\|");
    }

    private static String type(Type g, Key k) {
        Class<?> raw = raw(g);
        if (raw == Optional.class) {
            return type(argument(g), k);
        }
        if (raw == int.class || raw == Integer.class || raw == OptionalInt.class) {
            return "integer";
        }
        if (raw == double.class || raw == Double.class || raw == OptionalDouble.class) {
            return "number";
        }
        if (raw == boolean.class || raw == Boolean.class) {
            return "boolean";
        }
        if (raw == Path.class) {
            return k.is() == Is.MODEL ? "model" : "path";
        }
        if (raw == List.class) {
            return "list of " + type(argument(g), k);
        }
        if (raw.isRecord()) {
            return "block";
        }
        return "string";
    }

    private static String dflt(Class<?> raw, Key k) {
        if (k.required()) {
            return "required";
        }
        if (!k.dflt().equals(Key.NONE)) {
            return "`" + k.dflt() + "`";
        }
        if (raw.isRecord()) {
            return "its keys' defaults";
        }
        return raw == List.class ? "empty" : "unset";
    }

    private static String allowed(Type g, Key k, RecipeSchema schema) {
        String a = values(g, k, schema);
        return k.excludes().isEmpty() ? a : a + "; not together with `" + k.excludes() + "`";
    }

    private static String values(Type g, Key k, RecipeSchema schema) {
        Class<?> raw = raw(g);
        if (raw == Optional.class) {
            return values(argument(g), k, schema);
        }
        if (raw == int.class || raw == Integer.class || raw == OptionalInt.class) {
            return k.is().integer;
        }
        if (raw == double.class || raw == Double.class || raw == OptionalDouble.class) {
            return k.is().number;
        }
        if (raw == boolean.class || raw == Boolean.class) {
            return "true, false";
        }
        if (raw == Path.class) {
            return k.is() == Is.MODEL ? "a model folder, else a Hugging Face Hub id (org/name[@rev]) in the local cache"
                    : "a path, relative to the recipe's folder";
        }
        if (raw.isEnum() && RecipeEnum.class.isAssignableFrom(raw)) {
            return names(Arrays.stream(raw.getEnumConstants()).map(e -> ((RecipeEnum) e).yamlName()).toList());
        }
        if (raw.isRecord()) {
            return "a block of the keys below";
        }
        if (raw == List.class) {
            if (k.is() == Is.TARGET_MODULES) {
                return "distinct " + names(Recipe.TARGET_MODULES) + "; or the word `all-linear` (all of them)";
            }
            return k.list() + (k.nonEmpty() ? ", at least one" : "");
        }
        if (k.is() == Is.STAGE) {
            return names(schema.stages());
        }
        if (k.is() == Is.DATASET_TYPE) {
            return names(schema.datasetTypes());
        }
        return k.choices().isEmpty() ? "a non-empty string" : names(List.of(k.choices().split("\\|")));
    }

    private static String names(List<String> names) {
        return names.stream().map(n -> "`" + n + "`").collect(Collectors.joining(", "));
    }

    private static Class<?> raw(Type t) {
        return t instanceof ParameterizedType p ? (Class<?>) p.getRawType() : (Class<?>) t;
    }

    private static Type argument(Type t) {
        return ((ParameterizedType) t).getActualTypeArguments()[0];
    }
}
