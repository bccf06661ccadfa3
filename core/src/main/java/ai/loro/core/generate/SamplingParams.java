package ai.loro.core.generate;

import ai.loro.core.LoroException;
import java.util.List;

/**
 * How to pick each next token. Processing order follows transformers' logits warpers:
 * temperature, then top-k, then top-p. {@code temperature == 0} means greedy.
 *
 * @param topK 0 disables
 * @param topP 1.0 disables
 * @param stopStrings generation stops once the decoded continuation contains one (it is cut there)
 */
public record SamplingParams(int maxNewTokens, double temperature, int topK, double topP, long seed,
                             List<String> stopStrings, boolean stopOnEos) {
    public SamplingParams {
        if (maxNewTokens < 0) {
            throw new LoroException("max-new-tokens must be >= 0, got " + maxNewTokens);
        }
        if (!(temperature >= 0) || Double.isInfinite(temperature)) {
            throw new LoroException("temperature must be a finite number >= 0 (0 = greedy), got " + temperature);
        }
        if (topK < 0) {
            throw new LoroException("top-k must be >= 0 (0 = off), got " + topK);
        }
        if (!(topP > 0 && topP <= 1)) {
            throw new LoroException("top-p must be in (0, 1] (1 = off), got " + topP);
        }
        stopStrings = stopStrings == null ? List.of() : List.copyOf(stopStrings);
    }

    public static SamplingParams greedy(int maxNewTokens) {
        return new SamplingParams(maxNewTokens, 0, 0, 1.0, 0, List.of(), true);
    }

    public boolean greedy() {
        return temperature == 0;
    }
}
