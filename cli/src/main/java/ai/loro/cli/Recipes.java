package ai.loro.cli;

import ai.loro.core.recipe.Recipe;
import ai.loro.core.recipe.RecipeLoader;
import java.nio.file.Path;
import java.util.List;

/** Loads recipes with every stage and block the CLI knows ({@link Stages#SCHEMA}). */
public final class Recipes {
    private Recipes() {}

    public static Recipe load(Path file, List<String> set) {
        return RecipeLoader.load(file, set, Stages.SCHEMA);
    }
}
