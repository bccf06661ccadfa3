package ai.loro.datasets;

import ai.loro.core.LoroException;
import ai.loro.core.tokenizer.ChatTemplate;
import java.util.Map;

/**
 * How {@link ExampleEncoder} turns samples into examples.
 *
 * @param template the chat template; null = the tokenizer's own
 * @param sequenceLen longer examples are truncated to this many tokens (and counted)
 * @param trainOnInputs loss on every token, not only on assistant turns
 * @param appendEos append the tokenizer's EOS (with loss) when the render does not end with it, so
 *     trained models stop
 * @param strictBoundaries fail a row when tokenizing the pieces (prompt / assistant parts) separately
 *     gives other tokens than tokenizing the whole render; false keeps the pieces' tokens
 * @param templateVariables extra template variables (e.g. enable_thinking); may be empty
 */
public record EncodeOptions(ChatTemplate template, int sequenceLen, boolean trainOnInputs, boolean appendEos,
        boolean strictBoundaries, Map<String, Object> templateVariables) {
    public EncodeOptions {
        if (sequenceLen < 2) {
            throw new LoroException("sequence_len must be at least 2, got " + sequenceLen);
        }
        templateVariables = templateVariables == null ? Map.of() : Map.copyOf(templateVariables);
    }

    /** The tokenizer's template, loss on assistant turns, EOS appended, strict boundaries. */
    public static EncodeOptions of(int sequenceLen) {
        return new EncodeOptions(null, sequenceLen, false, true, true, Map.of());
    }

    public EncodeOptions withTemplate(ChatTemplate t) {
        return new EncodeOptions(t, sequenceLen, trainOnInputs, appendEos, strictBoundaries, templateVariables);
    }

    /** A builtin template by name, or null for the tokenizer's. */
    public EncodeOptions withTemplate(String builtinName) {
        return withTemplate(builtinName == null ? null : ChatTemplate.builtin(builtinName));
    }

    public EncodeOptions withSequenceLen(int n) {
        return new EncodeOptions(template, n, trainOnInputs, appendEos, strictBoundaries, templateVariables);
    }

    public EncodeOptions withTrainOnInputs(boolean b) {
        return new EncodeOptions(template, sequenceLen, b, appendEos, strictBoundaries, templateVariables);
    }

    public EncodeOptions withAppendEos(boolean b) {
        return new EncodeOptions(template, sequenceLen, trainOnInputs, b, strictBoundaries, templateVariables);
    }

    public EncodeOptions withStrictBoundaries(boolean b) {
        return new EncodeOptions(template, sequenceLen, trainOnInputs, appendEos, b, templateVariables);
    }

    public EncodeOptions withTemplateVariables(Map<String, Object> vars) {
        return new EncodeOptions(template, sequenceLen, trainOnInputs, appendEos, strictBoundaries, vars);
    }
}
