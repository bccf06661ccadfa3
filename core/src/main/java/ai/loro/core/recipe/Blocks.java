package ai.loro.core.recipe;

import java.util.LinkedHashMap;
import java.util.Map;

/** The stage blocks a recipe was read with, by name, in {@link RecipeSchema} order (each filled with defaults when absent). */
public final class Blocks {
    private final Map<String, Record> byName;

    Blocks(Map<String, Record> byName) {
        this.byName = java.util.Collections.unmodifiableMap(new LinkedHashMap<>(byName));
    }

    /** The block's values; an error when the recipe's schema did not list {@code block}. */
    public <T extends Record> T get(RecipeBlock<T> block) {
        Record r = byName.get(block.name());
        if (r == null) {
            throw new IllegalStateException("the recipe was read without the '" + block.name() + "' block (its schema"
                    + " lists " + byName.keySet() + ")");
        }
        return block.type().cast(r);
    }

    Map<String, Record> byName() {
        return byName;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof Blocks b && b.byName.equals(byName);
    }

    @Override
    public int hashCode() {
        return byName.hashCode();
    }

    @Override
    public String toString() {
        return byName.toString();
    }
}
