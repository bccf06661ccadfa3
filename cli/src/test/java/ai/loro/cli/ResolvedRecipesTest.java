package ai.loro.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;

import ai.loro.core.recipe.Pipeline;
import ai.loro.core.recipe.Recipe;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * The {@code recipe.yaml} a run writes into its output_dir is byte for byte what it was before the recipe keys were
 * declared once: every shipped recipe (and every pipeline stage, with its own {@code set:}) is resolved and compared
 * with the text the earlier hand-written serialiser gave, kept in {@code src/test/resources/resolved/} (the
 * repository's folder written as {@code <repo>}).
 */
class ResolvedRecipesTest {
    static final Path RECIPES = Path.of("../recipes");

    /** Each shipped recipe and pipeline stage, by a file name for its expected text. */
    static Map<String, Recipe> resolved() throws Exception {
        List<Path> files;
        try (Stream<Path> s = Files.walk(RECIPES)) {
            files = s.filter(p -> p.toString().endsWith(".yaml")).sorted().toList();
        }
        Map<String, Recipe> out = new LinkedHashMap<>();
        for (Path f : files) {
            String name = RECIPES.relativize(f).toString().replace('\\', '/').replace('/', '_').replace(".yaml", "");
            if (Pipeline.isPipeline(f)) {
                for (Pipeline.Stage s : Pipeline.load(f).stages()) {
                    if (s.generate().isPresent()) {
                        continue; // not a training stage: no recipe
                    }
                    out.put(name + "." + s.name(), Recipes.load(s.recipe(), s.set()));
                }
            } else {
                out.put(name, Recipes.load(f, List.of()));
            }
        }
        return out;
    }

    @Test
    void everyShippedRecipeResolvesToTheSameText() throws Exception {
        String repo = RECIPES.toAbsolutePath().normalize().getParent().toString();
        Map<String, Recipe> all = resolved();
        // 29 before GRPO; + recipes/grpo.yaml, recipes/quickstart/grpo.yaml and the quickstart pipeline's grpo stage
        // + recipes/iterative-dpo/dpo.yaml and the iterative-DPO pipeline's two DPO rounds
        assertEquals(29 + 3 + 3, all.size(), "recipes and pipeline stages compared");
        for (Map.Entry<String, Recipe> e : all.entrySet()) {
            String got = e.getValue().toYaml().replace(repo, "<repo>");
            Path want = Path.of("src/test/resources/resolved", e.getKey() + ".yaml");
            if (Boolean.getBoolean("loro.writeResolved")) {
                Files.writeString(want, got);
            }
            assertEquals(Files.readString(want), got, e.getKey());
        }
    }
}
