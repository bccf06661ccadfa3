package ai.loro.core.recipe;

import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;

/**
 * The one declaration of a recipe key: put on a record component, it makes that component a key of the record's
 * block. The YAML name is the component's name in snake_case ({@code learningRate} → {@code learning_rate}); the
 * Java type says how the value is read ({@code int}, {@code double}, {@code boolean}, {@code String}, {@code Path},
 * an enum implementing {@link RecipeEnum}, a nested record, a {@code List} of those) and {@code Optional*} makes
 * a key without a default. {@link RecordBlock} builds the validation table, the reader and the writer of
 * {@code recipe.yaml} from these declarations; nothing else names the key.
 */
@Retention(RetentionPolicy.RUNTIME)
@Target(ElementType.RECORD_COMPONENT)
public @interface Key {
    /** The doc line: what the key does. */
    String doc();

    /**
     * The default, as YAML text read by the key's own type (so a default is always an allowed value); {@link #NONE}
     * = no default (an {@code Optional*} component, a required key, a nested block whose absence means its defaults,
     * or a list that reads as empty and is left out of recipe.yaml when empty).
     */
    String dflt() default NONE;

    /** The key must be present. */
    boolean required() default false;

    /** Which values of the Java type are allowed. */
    Is is() default Is.ANY;

    /** For a {@code String}: the allowed names, joined by {@code |}; empty = any non-empty string. */
    String choices() default "";

    /** For a {@code List}: what a message calls it ("a list of ..."); {@link #nonEmpty} refuses an empty one. */
    String list() default "";

    boolean nonEmpty() default false;

    /**
     * The YAML name of a key of the same block that this one excludes: setting both is an error, and when this one
     * is set the other is left out of recipe.yaml (this one is what ran). Empty = none.
     */
    String excludes() default "";

    String NONE = "\0none";

    /**
     * Restrictions on a key's values beyond its Java type. For numbers: the smallest integer and the test of a
     * number, with the words messages and docs/recipes.md use ({@code null} = does not apply to that type).
     */
    enum Is {
        ANY(Integer.MIN_VALUE, "an integer", v -> true, "a number"),
        POSITIVE(1, "a positive integer", v -> v > 0, "a number > 0"),
        NON_NEGATIVE(0, "an integer >= 0", v -> v >= 0, "a number >= 0"),
        /** Completions per prompt (a group). */
        GROUP_SIZE(2, "an integer >= 2 (completions per prompt)", null, null),
        UNIT_OPEN(0, null, v -> v >= 0 && v < 1, "a number in [0, 1)"),
        UNIT(0, null, v -> v >= 0 && v <= 1, "a number in [0, 1]"),
        UNIT_LEFT_OPEN(0, null, v -> v > 0 && v <= 1, "a number in (0, 1]"),
        BELOW_HALF(0, null, v -> v >= 0 && v < 0.5, "a number in [0, 0.5)"),
        /** {@code val_set_size}. */
        FRACTION_OR_COUNT(0, null, null, "0, a fraction in (0, 1) or a whole count >= 1"),
        /** Path: a model folder or a Hugging Face Hub id in the local cache. */
        MODEL,
        /** String: one of the data set types the loader knows. */
        DATASET_TYPE,
        /** String: one of the stages the loader knows ({@link RecipeSchema}). */
        STAGE,
        /** {@code List<String>}: distinct LoRA target modules, or the word {@code all-linear}. */
        TARGET_MODULES;

        final int min;
        final String integer;
        final java.util.function.DoublePredicate test;
        final String number;

        Is() {
            this(0, null, null, null);
        }

        Is(int min, String integer, java.util.function.DoublePredicate test, String number) {
            this.min = min;
            this.integer = integer;
            this.test = test;
            this.number = number;
        }
    }
}
