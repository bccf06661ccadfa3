package ai.loro.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.loro.core.recipe.RecipeDocs;
import ai.loro.core.recipe.RecipeDocs.Row;
import ai.loro.dpo.DpoConfig;
import ai.loro.rlhf.PpoConfig;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * docs/recipes.md is what the {@code @Key} declarations of every stage the CLI registers produce; regenerate it with
 * {@code -Dloro.writeRecipeDocs=true}.
 */
class RecipeDocsTest {
    static final Path DOC = Path.of("../docs/recipes.md");
    static final String REGENERATE = "mvn -B -q -pl cli -am test -Dtest=RecipeDocsTest"
            + " -Dsurefire.failIfNoSpecifiedTests=false -Dloro.writeRecipeDocs=true";

    @Test
    void docsRecipesMdIsGeneratedFromTheDeclarations() throws Exception {
        String want = RecipeDocs.markdown(Stages.SCHEMA, REGENERATE);
        if (Boolean.getBoolean("loro.writeRecipeDocs")) {
            Files.writeString(DOC, want);
        }
        assertEquals(want, Files.readString(DOC), "docs/recipes.md differs from the @Key declarations; regenerate: "
                + REGENERATE);
    }

    @Test
    void rowsSayWhatTheDeclarationsSay() {
        List<Row> ppo = RecipeDocs.rows(PpoConfig.class, "ppo.", Stages.SCHEMA);
        Row kl = ppo.stream().filter(r -> r.key().equals("ppo.kl_estimator")).findFirst().orElseThrow();
        assertEquals(new Row("ppo.kl_estimator", "string", "`k1`", "`k1`, `k2`, `k3`", "the per-token KL estimator"), kl);
        Row ref = RecipeDocs.rows(DpoConfig.class, "dpo.", Stages.SCHEMA).stream()
                .filter(r -> r.key().equals("dpo.reference_log_probs")).findFirst().orElseThrow();
        assertEquals(new Row("dpo.reference_log_probs", "path", "unset", "a path, relative to the recipe's folder",
                "a folder of reference log-probs written by loro spark ref-logprobs (absent: computed in the stage)"), ref);
        List<Row> top = RecipeDocs.rows(ai.loro.core.recipe.Recipe.class, "", Stages.SCHEMA);
        Row stage = top.get(0);
        assertEquals(new Row("stage", "string", "required", "`sft`, `reward`, `dpo`, `ppo`, `grpo`",
                "the stage to run (the names the loader's RecipeSchema lists)"), stage);
        assertTrue(top.stream().anyMatch(r -> r.key().equals("adapter.r") && r.dflt().equals("`8`")
                && r.allowed().equals("a positive integer")), top.toString());
        assertTrue(top.stream().anyMatch(r -> r.key().equals("datasets[].type")), top.toString());
        assertTrue(top.stream().anyMatch(r -> r.key().equals("warmup_ratio")
                && r.allowed().equals("a number in [0, 1); not together with `warmup_steps`")), top.toString());
    }
}
