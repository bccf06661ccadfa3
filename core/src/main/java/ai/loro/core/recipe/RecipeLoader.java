package ai.loro.core.recipe;

import ai.loro.core.recipe.Schema.Ctx;
import ai.loro.core.recipe.YamlTree.YEntry;
import ai.loro.core.recipe.YamlTree.YMap;
import ai.loro.core.recipe.YamlTree.YNode;
import ai.loro.core.recipe.YamlTree.YSeq;
import ai.loro.core.LoroException;
import java.io.IOException;
import java.nio.charset.CharacterCodingException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;

/**
 * Reads a recipe file, applies {@code --set key=value} overrides and validates the result once, against the keys
 * {@link Recipe} and the {@link RecipeSchema}'s stage blocks declare. Every error is a one-line
 * {@link LoroException} that names the file and line (or the {@code --set} key), the key, and what is allowed.
 */
public final class RecipeLoader {
    private RecipeLoader() {}

    // ---------------------------------------------------------------- entry points

    /** Loads {@code recipeFile} with {@code setOverrides} ({@code key=value}) against {@code schema}. */
    public static Recipe load(Path recipeFile, List<String> setOverrides, RecipeSchema schema) {
        String label = recipeFile.toString();
        String text;
        try {
            text = Files.readString(recipeFile);
        } catch (NoSuchFileException e) {
            throw new LoroException(label + ": no such recipe file", e);
        } catch (CharacterCodingException e) {
            throw new LoroException(label + ": not UTF-8 text", e);
        } catch (IOException e) {
            throw new LoroException(label + ": cannot read the recipe (" + e.getMessage() + ")", e);
        }
        Path dir = recipeFile.toAbsolutePath().normalize().getParent();
        return parse(text, label, dir, setOverrides, schema);
    }

    /**
     * Parses recipe text. {@code label} names it in messages; relative paths resolve against
     * {@code baseDir}.
     */
    public static Recipe parse(String text, String label, Path baseDir, List<String> setOverrides, RecipeSchema schema) {
        return parse(text, label, baseDir, setOverrides, schema, System::getenv);
    }

    /** As {@link #parse(String, String, Path, List, RecipeSchema)}, reading environment variables from {@code env}. */
    static Recipe parse(String text, String label, Path baseDir, List<String> setOverrides, RecipeSchema schema,
                        java.util.function.Function<String, String> env) {
        YNode root = YamlTree.parse(text, label);
        YMap top;
        if (root == null || YamlTree.isNull(root)) {
            top = new YMap(new LinkedHashMap<>(), label + ":1");
        } else if (root instanceof YMap m) {
            top = m;
        } else {
            throw new LoroException(root.where() + ": a recipe is a block of keys (stage, base_model, output_dir,"
                    + " datasets, ...), got " + YamlTree.describe(root));
        }
        YEntry stages = top.entries().get("stages");
        if (stages != null) {
            throw new LoroException(stages.keyWhere() + ": pipelines are not supported yet ('stages' lists"
                    + " several stages; write one recipe per stage and run each with 'loro train')");
        }
        for (String s : setOverrides == null ? List.<String>of() : setOverrides) {
            applySet(top, s);
        }
        Ctx ctx = new Ctx(baseDir.toAbsolutePath().normalize(), schema.datasetTypes(), schema.stages(), env);
        return schema.build(Schema.readBlock(schema.top(), top, "", ctx));
    }

    // ---------------------------------------------------------------- --set

    /** Applies one {@code key=value}: dotted key, list entries by index ({@code datasets.0.path} or {@code datasets[0].path}). */
    static void applySet(YMap top, String set) {
        int eq = set.indexOf('=');
        if (eq <= 0) {
            throw new LoroException("--set " + set + ": expected key=value (e.g. --set adapter.r=16)");
        }
        String key = set.substring(0, eq).trim();
        String where = "--set " + key;
        String[] segs = key.replaceAll("\\[(\\d+)]", ".$1").split("\\.", -1);
        for (String s : segs) {
            if (s.isEmpty()) {
                throw new LoroException(where + ": malformed key (expected names joined by dots, e.g. adapter.r)");
            }
        }
        if (segs[0].equals("stages")) {
            throw new LoroException(where + ": pipelines are not supported yet");
        }
        YNode value = YamlTree.parseValue(set.substring(eq + 1), where);
        YNode cur = top;
        String path = "";
        for (int i = 0; i < segs.length; i++) {
            String seg = segs[i];
            boolean last = i == segs.length - 1;
            if (cur instanceof YMap m) {
                YEntry e = m.entries().get(seg);
                if (last) {
                    m.entries().put(seg, new YEntry(where, value));
                } else if (e == null || YamlTree.isNull(e.value())) {
                    YNode fresh = freshContainer(segs[i + 1], where);
                    m.entries().put(seg, new YEntry(where, fresh));
                    cur = fresh;
                } else {
                    cur = e.value();
                }
            } else if (cur instanceof YSeq s) {
                int idx = index(seg, s, path, where);
                if (last) {
                    if (idx == s.items().size()) {
                        s.items().add(value);
                    } else {
                        s.items().set(idx, value);
                    }
                } else if (idx == s.items().size()) {
                    YNode fresh = freshContainer(segs[i + 1], where);
                    s.items().add(fresh);
                    cur = fresh;
                } else {
                    cur = s.items().get(idx);
                }
            } else {
                throw new LoroException(where + ": '" + path + "' is a single value (" + YamlTree.describe(cur)
                        + "), so it has no '" + seg + "'");
            }
            path = Schema.child(path, seg);
        }
    }

    private static YNode freshContainer(String nextSeg, String where) {
        return nextSeg.chars().allMatch(Character::isDigit)
                ? new YSeq(new java.util.ArrayList<>(), where)
                : new YMap(new LinkedHashMap<>(), where);
    }

    private static int index(String seg, YSeq s, String path, String where) {
        if (!seg.chars().allMatch(Character::isDigit) || seg.length() > 6) {
            throw new LoroException(where + ": '" + path + "' is a list; name an entry by its index (e.g. "
                    + path + ".0." + seg + ")");
        }
        int idx = Integer.parseInt(seg);
        if (idx > s.items().size()) {
            throw new LoroException(where + ": index " + idx + " is out of range ('" + path + "' has "
                    + s.items().size() + " entries; use " + s.items().size() + " to add one)");
        }
        return idx;
    }
}
