package ai.loro.cli;

import ai.loro.core.recipe.Recipe;
import ai.loro.core.recipe.RecipeLoader;
import java.nio.file.Path;
import java.util.List;

/** Loads recipes with every stage and block the CLI knows. */
final class Recipes {
    private Recipes() {}

    static Recipe load(Path file, List<String> set) {
        return RecipeLoader.load(file, set);
    }
}
