package ai.loro.reward;

import ai.loro.core.LoroException;
import ai.loro.datasets.Row;
import com.fasterxml.jackson.databind.JsonNode;

/**
 * One row of the {@code classification} data set type: {@code {"text": str, "label": int | str}}. The label stays
 * as written (an index or a name); which labels are allowed depends on {@code reward.num_labels} and
 * {@code reward.labels}, checked by {@link ClassifierStage}; the label may be absent or of any type here.
 */
record LabelledText(String text, JsonNode label) {

    static LabelledText parse(Row row) {
        JsonNode text = row.data().get("text");
        if (text == null || !text.isTextual() || text.asText().isEmpty()) {
            throw new LoroException(row.where() + ": field 'text' must be a non-empty string");
        }
        return new LabelledText(text.asText(), row.data().get("label"));
    }

    /** The label as {@code data inspect} counts it: the index or the name; anything else is a bad row. */
    String labelKey(Row row) {
        if (label != null && label.isIntegralNumber() && label.asLong() >= 0) {
            return String.valueOf(label.asLong());
        }
        if (label != null && label.isTextual() && !label.asText().isEmpty()) {
            return label.asText();
        }
        throw new LoroException(row.where() + ": field 'label' is " + label + "; allowed: a class index (an integer >= 0)"
                + " or a class name (a non-empty string)");
    }
}
