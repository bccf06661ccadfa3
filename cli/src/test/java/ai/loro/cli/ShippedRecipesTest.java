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
    /**
     * Every shipped model shape parses, and the 1B-class bench shapes have the parameter counts of the
     * models they copy (Llama-3.2-1B with tied embeddings, TinyLlama-1.1B untied, as Hugging Face reports).
     */
    @Test
    void everyShippedShapeParsesAndTheBenchShapesMatchTheirModels() throws Exception {
        List<Path> shapes;
        try (Stream<Path> s = Files.list(Path.of("../recipes/shapes"))) {
            shapes = s.filter(p -> p.toString().endsWith(".json")).sorted().toList();
        }
        assertTrue(shapes.size() >= 6, shapes.toString());
        java.util.Map<String, Long> counts = new java.util.HashMap<>();
        for (Path p : shapes) {
            com.fasterxml.jackson.databind.node.ObjectNode json = (com.fasterxml.jackson.databind.node.ObjectNode)
                    new com.fasterxml.jackson.databind.ObjectMapper().readTree(p.toFile());
            counts.put(p.getFileName().toString(), ai.loro.core.model.LlamaConfig.parse(json, p.toString()).parameterCount());
        }
        assertEquals(1_235_814_400L, counts.get("llama-3.2-1b.json"));
        assertEquals(1_100_048_384L, counts.get("tinyllama-1.1b.json"));
    }

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
