package ai.loro.core.train;

import ai.loro.core.recipe.Recipe;
import java.io.PrintStream;

/** A training stage: runs a recipe, logging to {@code log}, and says where its outputs are. */
@FunctionalInterface
public interface Stage {
    StageResult run(Recipe recipe, PrintStream log);
}
