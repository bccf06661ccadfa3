package ai.loro.core.recipe;

import static ai.loro.core.recipe.Schema.PATH;
import static ai.loro.core.recipe.Schema.STRING;
import static ai.loro.core.recipe.Schema.block;
import static ai.loro.core.recipe.Schema.listOf;
import static ai.loro.core.recipe.Schema.opt;
import static ai.loro.core.recipe.Schema.req;

import ai.loro.core.LoroException;
import ai.loro.core.recipe.Schema.Block;
import ai.loro.core.recipe.Schema.BlockType;
import ai.loro.core.recipe.Schema.Ctx;
import ai.loro.core.recipe.YamlTree.YMap;
import ai.loro.core.recipe.YamlTree.YNode;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * A pipeline recipe: stages run in order, each one a recipe file of its own, where a stage may take
 * an earlier stage's output as its {@code base_model} (an SFT adapter merged into a full checkpoint)
 * or, for PPO, as its reward model.
 *
 * <pre>
 * output_dir: ../runs/dpo-style     # stage outputs go to output_dir/NAME
 * stages:
 *   - name: sft
 *     recipe: sft.yaml
 *   - name: dpo
 *     recipe: dpo.yaml
 *     base_model: sft               # the merged model of stage 'sft'
 *     set: [learning_rate=1e-3]     # --set overrides for this stage
 * </pre>
 */
public record Pipeline(Path file, Optional<Path> outputDir, List<Stage> stages) {
    /** One stage: its name, recipe, and where its inputs come from (stage names or paths). */
    public record Stage(String name, Path recipe, Optional<String> baseModel, Optional<String> rewardModel, List<String> set) {}

    static final Block STAGE = block(
            req("name", STRING),
            req("recipe", PATH),
            opt("base_model", STRING),
            opt("reward_model", STRING),
            opt("set", listOf(STRING, false, "a list of key=value overrides")));

    static final Block TOP = block(
            opt("output_dir", PATH),
            req("stages", listOf(new BlockType(STAGE), true, "a list of stages (each with name and recipe)")));

    /** True when the YAML file lists {@code stages:} (a pipeline rather than a single-stage recipe). */
    public static boolean isPipeline(Path file) {
        try {
            YNode root = YamlTree.parse(Files.readString(file), file.toString());
            return root instanceof YMap m && m.entries().containsKey("stages");
        } catch (IOException e) {
            throw new LoroException(file + ": cannot read: " + e.getMessage());
        }
    }

    @SuppressWarnings("unchecked")
    public static Pipeline load(Path file) {
        YNode root;
        try {
            root = YamlTree.parse(Files.readString(file), file.toString());
        } catch (IOException e) {
            throw new LoroException(file + ": cannot read: " + e.getMessage());
        }
        if (!(root instanceof YMap top)) {
            throw new LoroException(file + ":1: a pipeline is a block with output_dir and stages");
        }
        Ctx ctx = new Ctx(file.toAbsolutePath().getParent().normalize(), List.of()); // no data set types here
        Map<String, Object> v = Schema.readBlock(TOP, top, "", ctx);
        List<Stage> stages = new ArrayList<>();
        Set<String> names = new HashSet<>();
        for (Map<String, Object> s : (List<Map<String, Object>>) v.get("stages")) {
            String name = (String) s.get("name");
            if (!name.matches("[A-Za-z0-9_.-]+")) {
                throw new LoroException(file + ": stage name '" + name + "' may use letters, digits, '.', '_' and '-' only");
            }
            if (!names.add(name)) {
                throw new LoroException(file + ": two stages are named '" + name + "'");
            }
            for (String ref : new String[] {(String) s.get("base_model"), (String) s.get("reward_model")}) {
                if (ref != null && !names.contains(ref) && looksLikeStageName(ref, stages)) {
                    throw new LoroException(file + ": stage '" + name + "' refers to '" + ref
                            + "', which is not an earlier stage (earlier: " + String.join(", ", names) + ")");
                }
            }
            stages.add(new Stage(name, (Path) s.get("recipe"), Optional.ofNullable((String) s.get("base_model")),
                    Optional.ofNullable((String) s.get("reward_model")),
                    s.get("set") == null ? List.of() : (List<String>) s.get("set")));
        }
        return new Pipeline(file, Optional.ofNullable((Path) v.get("output_dir")), List.copyOf(stages));
    }

    /** A reference without a path separator that names no file is meant as a stage. */
    private static boolean looksLikeStageName(String ref, List<Stage> earlier) {
        return !ref.contains("/") && !ref.contains("\\");
    }

    /** Names of the stages whose output a later stage consumes. */
    public Set<String> consumed() {
        Set<String> out = new HashSet<>();
        for (Stage s : stages) {
            s.baseModel().ifPresent(out::add);
            s.rewardModel().ifPresent(out::add);
        }
        return out;
    }
}
