package ai.loro.cli;

import static org.junit.jupiter.api.Assertions.*;

import ai.loro.core.recipe.Pipeline;
import ai.loro.core.recipe.Recipe;
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
        assertEquals(List.of("chat-23m.json", "llama-3.2-1b.json", "llama-42m.json", "tiny.json", "tinyllama-1.1b.json",
                "vocab128k-89m.json", "vocab128k-tiny.json"), shapes.stream().map(p -> p.getFileName().toString()).toList());
        java.util.Map<String, Long> counts = new java.util.HashMap<>();
        for (Path p : shapes) {
            com.fasterxml.jackson.databind.node.ObjectNode json = (com.fasterxml.jackson.databind.node.ObjectNode)
                    new com.fasterxml.jackson.databind.ObjectMapper().readTree(p.toFile());
            counts.put(p.getFileName().toString(), ai.loro.core.model.LlamaConfig.parse(json, p.toString()).parameterCount());
        }
        assertEquals(1_235_814_400L, counts.get("llama-3.2-1b.json"));
        assertEquals(1_100_048_384L, counts.get("tinyllama-1.1b.json"));
        assertEquals(88_875_520L, counts.get("vocab128k-89m.json")); // the serving issue's decode shape
    }

    /** Every shipped recipe and pipeline, sorted as {@code Files.walk} paths sort. */
    static final List<String> SHIPPED = List.of("alpaca-lora.yaml", "alpaca-style/pipeline.yaml", "bench/ppo-chat-23m.yaml",
            "classifier.yaml", "dpo-style/pipeline.yaml", "dpo-style/sft.yaml", "dpo.yaml", "grpo.yaml", "hh-rlhf-reward.yaml",
            "iterative-dpo/dpo.yaml", "iterative-dpo/pipeline.yaml", "oasst-reward.yaml", "oasst-style/pipeline.yaml", "oasst-style/ppo.yaml", "oasst-style/reward.yaml",
            "oasst-style/sft.yaml", "openorca-lora.yaml", "ppo.yaml", "qlora.yaml", "quickstart/dpo.yaml",
            "quickstart/grpo.yaml", "quickstart/pipeline.yaml", "quickstart/ppo.yaml", "quickstart/pretrain.yaml", "quickstart/reward.yaml",
            "quickstart/sft.yaml");

    @Test
    void everyShippedRecipeValidates() throws Exception {
        List<Path> files;
        try (Stream<Path> s = Files.walk(Path.of("../recipes"))) {
            files = s.filter(p -> p.toString().endsWith(".yaml")).sorted().toList();
        }
        // the exact list: a recipe that vanishes (or a new one nobody added here) fails the test
        assertEquals(SHIPPED, files.stream().map(p -> Path.of("../recipes").relativize(p).toString().replace('\\', '/')).toList());
        int stages = 0;
        int generateStages = 0;
        for (Path f : files) {
            if (Pipeline.isPipeline(f)) {
                Pipeline p = Pipeline.load(f);
                for (Pipeline.Stage s : p.stages()) {
                    if (s.generate().isPresent()) { // validated by Pipeline.load; its inputs are earlier stages' outputs
                        generateStages++;
                        continue;
                    }
                    check(Recipes.load(s.recipe(), s.set()), s.recipe());
                    stages++;
                }
            } else {
                check(Recipes.load(f, List.of()), f);
                stages++;
            }
        }
        // 20 single-stage recipes + iterative-dpo/dpo.yaml, and the pipelines' 1 + 2 + 3 + 6 stages + iterative-dpo's 2 DPO rounds
        assertEquals(20 + 1 + 1 + 2 + 3 + 6 + 2, stages, "stages validated");
        assertEquals(2, generateStages, "iterative-dpo's generate stages");
    }

    private static void check(Recipe r, Path file) {
        for (Recipe.Dataset d : r.datasets()) {
            // the quickstart's data is generated next to its copied recipes (iterative-dpo's by its generate stages);
            // everything else ships
            if (!file.toString().contains("quickstart") && !file.toString().contains("iterative-dpo")) {
                assertTrue(Files.isRegularFile(d.path()), file + ": data set " + d.path() + " is missing");
            }
        }
    }
}
