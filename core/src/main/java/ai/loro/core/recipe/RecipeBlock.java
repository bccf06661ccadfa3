package ai.loro.core.recipe;

import java.util.Objects;

/**
 * A stage's own block of recipe keys ({@code dpo:}, {@code ppo:}, ...): the record whose {@link Key} components
 * declare them, under the top-level key {@code name}. The stage's module declares it; the CLI lists it in its
 * {@link RecipeSchema}; the stage reads it back with {@link Recipe#block(RecipeBlock)}. Core names no stage block.
 */
public final class RecipeBlock<T extends Record> {
    private final String name;
    private final Class<T> type;
    private final RecordBlock<T> keys;

    private RecipeBlock(String name, Class<T> type) {
        this.name = Objects.requireNonNull(name, "name");
        this.type = Objects.requireNonNull(type, "type");
        this.keys = RecordBlock.of(type);
    }

    /** The block {@code name:} whose keys are {@code type}'s {@link Key} components. */
    public static <T extends Record> RecipeBlock<T> of(String name, Class<T> type) {
        return new RecipeBlock<>(name, type);
    }

    public String name() {
        return name;
    }

    public Class<T> type() {
        return type;
    }

    RecordBlock<T> keys() {
        return keys;
    }

    @Override
    public String toString() {
        return "RecipeBlock(" + name + ": " + type.getName() + ")";
    }
}
