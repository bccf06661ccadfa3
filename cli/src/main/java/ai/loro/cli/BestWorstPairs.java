package ai.loro.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.ArrayList;
import java.util.List;

/**
 * Preference pairs from scored samples (rejection sampling as in online iterative DPO): per prompt row, the sample
 * with the highest reward is chosen and the one with the lowest rejected (ties: the lowest sample index); a prompt
 * whose best reward equals its worst gives no pair. Empty completions (blank text) take no part: a preference data
 * set refuses an empty response.
 */
final class BestWorstPairs {
    private BestWorstPairs() {}

    private static final ObjectMapper JSON = new ObjectMapper();

    record Result(List<ObjectNode> pairs, int prompts, int skipped) {}

    /** {@code samples}: rows with {@code row}, {@code sample}, {@code prompt}, {@code completion}, {@code reward}, sorted by row. */
    static Result of(List<JsonNode> samples) {
        List<ObjectNode> pairs = new ArrayList<>();
        int prompts = 0;
        int skipped = 0;
        int i = 0;
        while (i < samples.size()) {
            long row = samples.get(i).get("row").asLong();
            JsonNode best = null;
            JsonNode worst = null;
            int j = i;
            for (; j < samples.size() && samples.get(j).get("row").asLong() == row; j++) {
                JsonNode s = samples.get(j);
                if (s.get("completion").asText().isBlank()) {
                    continue;
                }
                if (best == null || s.get("reward").asDouble() > best.get("reward").asDouble()) {
                    best = s;
                }
                if (worst == null || s.get("reward").asDouble() < worst.get("reward").asDouble()) {
                    worst = s;
                }
            }
            prompts++;
            if (best == null || best.get("reward").asDouble() == worst.get("reward").asDouble()) {
                skipped++;
            } else {
                ObjectNode p = JSON.createObjectNode();
                p.put("prompt", best.get("prompt").asText());
                p.put("chosen", best.get("completion").asText());
                p.put("rejected", worst.get("completion").asText());
                p.put("prompt_row", row);
                p.put("chosen_reward", best.get("reward").asDouble());
                p.put("rejected_reward", worst.get("reward").asDouble());
                pairs.add(p);
            }
            i = j;
        }
        return new Result(pairs, prompts, skipped);
    }
}
