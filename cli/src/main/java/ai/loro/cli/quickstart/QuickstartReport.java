package ai.loro.cli.quickstart;

import ai.loro.cli.report.RunReport;
import com.fasterxml.jackson.databind.JsonNode;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;

/** The quickstart's report.html: the world, the held-out table, then every stage's curves ({@link RunReport}). */
public final class QuickstartReport {
    private QuickstartReport() {}

    /** Writes {@code dir/report.html} from results.json's content and the stages' folders; returns its path. */
    public static Path write(Path dir, JsonNode results, List<String> stages) {
        StringBuilder h = new StringBuilder(RunReport.begin("Loro quickstart"));
        h.append("<p>Task: shift each letter of a ").append(ShiftWorld.WORD_LENGTH)
                .append("-letter word one step along <code>").append(ShiftWorld.ALPHABET).append("</code> (<code>cafe → dbgf</code>). ")
                .append(String.format(Locale.ROOT, "A %,d-parameter Llama trained from scratch; SFT on %d demonstrations of which %.0f%% are right; ",
                        results.path("parameters").asLong(), results.path("demonstrations").asInt(),
                        100 * results.path("demonstrations_right").asDouble()))
                .append(String.format(Locale.ROOT, "reward model, PPO and DPO on %d right-vs-wrong comparisons; GRPO rewarded by exact match with the answer. Held out: %d words no stage saw.</p>%n",
                        results.path("comparisons").asInt(), results.path("held_out_words").asInt()));
        h.append("<h2>Held-out results</h2>\n<table><tr><th>stage</th><th>greedy accuracy</th><th>sampled accuracy (T=1)</th>")
                .append("<th>KL to SFT (nats/response)</th><th>response tokens</th><th>train time</th></tr>\n");
        for (JsonNode s : results.path("stages")) {
            h.append(String.format(Locale.ROOT, "<tr><td>%s</td><td>%.3f</td><td>%.3f</td><td>%s</td><td>%.1f</td><td>%.0f s</td></tr>%n",
                    s.path("stage").asText(), s.path("greedy_accuracy").asDouble(), s.path("sampled_accuracy").asDouble(),
                    s.has("kl_to_sft") ? String.format(Locale.ROOT, "%.3f", s.path("kl_to_sft").asDouble()) : "–",
                    s.path("mean_response_tokens").asDouble(), s.path("seconds").asDouble()));
        }
        JsonNode rm = results.path("reward_model");
        h.append(String.format(Locale.ROOT, "</table>%n<p>Reward model: held-out pairwise accuracy %.3f, mean margin %.2f (%.0f s). Total %.0f s.</p>%n",
                rm.path("held_out_pairwise_accuracy").asDouble(), rm.path("held_out_mean_margin").asDouble(),
                rm.path("seconds").asDouble(), results.path("total_seconds").asDouble()));
        for (String stage : stages) {
            h.append(RunReport.stageSection(stage, dir.resolve(stage)));
        }
        return RunReport.writeAtomically(dir.resolve("report.html"), h.append(RunReport.end()).toString());
    }
}
