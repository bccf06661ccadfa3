package ai.loro.core.recipe;

import java.util.Locale;

/**
 * An enum a recipe key takes: its constants, in declaration order, are the allowed values (so the code that
 * implements a choice also defines what a recipe may name), written as {@link #yamlName()}.
 */
public interface RecipeEnum {
    String name();

    /** How a recipe writes the constant: its name in lower case unless the enum says otherwise. */
    default String yamlName() {
        return name().toLowerCase(Locale.ROOT);
    }
}
