package ai.loro.core.recipe;

import ai.loro.core.recipe.Schema.Block;
import ai.loro.core.recipe.Schema.Field;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * What a recipe may say: the stage names, the stages' own blocks (after the top-level keys of {@link Recipe}, in
 * this order, also in recipe.yaml) and the data set types. The CLI assembles it from the stage modules; core
 * names none of them.
 */
public final class RecipeSchema {
    private final List<String> stages;
    private final List<RecipeBlock<?>> blocks;
    private final List<String> datasetTypes;
    private final Block top;

    private RecipeSchema(List<String> stages, List<RecipeBlock<?>> blocks, List<String> datasetTypes) {
        this.stages = List.copyOf(stages);
        this.blocks = List.copyOf(blocks);
        this.datasetTypes = List.copyOf(datasetTypes);
        List<Field> fields = new ArrayList<>(TOP_KEYS.block().fields());
        for (RecipeBlock<?> b : blocks) {
            if (fields.stream().anyMatch(f -> f.key().equals(b.name()))) {
                throw new IllegalArgumentException("recipe block '" + b.name() + "' is declared twice");
            }
            fields.add(new Field(b.name(), b.keys().nested(), null, false));
        }
        this.top = new Block(List.copyOf(fields), TOP_KEYS.block().check());
    }

    /** The stages (as {@code stage:} names them), their blocks and the data set {@code type}s their modules read. */
    public static RecipeSchema of(List<String> stages, List<RecipeBlock<?>> blocks, List<String> datasetTypes) {
        return new RecipeSchema(stages, blocks, datasetTypes);
    }

    /** The same schema knowing other data set {@code type}s. */
    public RecipeSchema withDatasetTypes(Collection<String> types) {
        return new RecipeSchema(stages, blocks, List.copyOf(types));
    }

    public List<String> stages() {
        return stages;
    }

    public List<RecipeBlock<?>> blocks() {
        return blocks;
    }

    List<String> datasetTypes() {
        return datasetTypes;
    }

    Block top() {
        return top;
    }

    /** The record from the top block's values. */
    Recipe build(Map<String, Object> values) {
        Map<String, Record> read = new LinkedHashMap<>();
        for (RecipeBlock<?> b : blocks) {
            read.put(b.name(), (Record) values.get(b.name()));
        }
        return TOP_KEYS.build(values, new Blocks(read));
    }

    private static final RecordBlock<Recipe> TOP_KEYS = RecordBlock.of(Recipe.class);
}
