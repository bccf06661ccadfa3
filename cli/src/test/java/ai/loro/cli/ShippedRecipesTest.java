package ai.loro.cli;

import static org.junit.jupiter.api.Assertions.*;

import ai.loro.core.recipe.Pipeline;
import ai.loro.core.recipe.Recipe;
import ai.loro.core.recipe.RecipeLoader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * Every shipped recipe and pipeline passes the same validation a user's run does (unknown keys,
 * types, values), and every data set it names exists: a typo in recipes/ fails here, not on a
 * user's machine.
 */
class ShippedRecipesTest {
    @Test
    void everyShippedRecipeValidates() throws Exception {
        List<Path> files;
        try (Stream<Path> s = Files.walk(Path.of("../recipes"))) {
            files = s.filter(p -> p.toString().endsWith(".yaml")).sorted().toList();
        }
        assertTrue(files.size() >= 20, "recipes found: " + files);
        int stages = 0;
        for (Path f : files) {
            if (Pipeline.isPipeline(f)) {
                Pipeline p = Pipeline.load(f);
                for (Pipeline.Stage s : p.stages()) {
                    check(RecipeLoader.load(s.recipe(), s.set()), s.recipe());
                    stages++;
                }
            } else {
                check(RecipeLoader.load(f, List.of()), f);
                stages++;
            }
        }
        assertTrue(stages >= files.size() - 4, "stages validated: " + stages);
    }

    private static void check(Recipe r, Path file) {
        for (Recipe.Dataset d : r.datasets()) {
            // the quickstart's data is generated next to its copied recipes; everything else ships
            if (!file.toString().contains("quickstart")) {
                assertTrue(Files.isRegularFile(d.path()), file + ": data set " + d.path() + " is missing");
            }
        }
    }
}
