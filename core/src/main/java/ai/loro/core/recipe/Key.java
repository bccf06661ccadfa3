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

    String NONE = "\0none";

    /** Restrictions on a key's values beyond its Java type. */
    enum Is {
        /** int: any integer; double: any number. */
        ANY,
        /** int: "a positive integer"; double: "a number > 0". */
        POSITIVE,
        /** int: "an integer >= 0"; double: "a number >= 0". */
        NON_NEGATIVE,
        /** int >= 2: completions per prompt (a group). */
        GROUP_SIZE,
        /** double in [0, 1). */
        UNIT_OPEN,
        /** double in [0, 1]. */
        UNIT,
        /** double in (0, 1]. */
        UNIT_LEFT_OPEN,
        /** double in [0, 0.5). */
        BELOW_HALF,
        /** double: 0, a fraction in (0, 1) or a whole count >= 1 ({@code val_set_size}). */
        FRACTION_OR_COUNT,
        /** Path: a model folder or a Hugging Face Hub id in the local cache. */
        MODEL,
        /** String: one of the data set types the loader knows. */
        DATASET_TYPE,
        /** String: one of the stages the loader knows ({@link RecipeSchema}). */
        STAGE,
        /** {@code List<String>}: distinct LoRA target modules, or the word {@code all-linear}. */
        TARGET_MODULES
    }
}
