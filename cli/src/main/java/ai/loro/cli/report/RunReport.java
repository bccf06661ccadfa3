package ai.loro.cli.report;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import tech.tablesaw.api.DoubleColumn;
import tech.tablesaw.api.StringColumn;
import tech.tablesaw.api.Table;

/**
 * HTML reports of training runs: per stage, curves of the metrics it logged (metrics.jsonl read
 * into a Tablesaw table, split into train/eval rows; the panels follow the stage kind named in the
 * run's recipe.yaml) and, for PPO, the last samples. Curves are inline SVG, so the page needs no
 * network and no script. Used by {@code loro report} and the quickstart.
 */
public final class RunReport {
    /** Metrics plotted per stage kind, in panels; missing ones are left out. */
    private static final Map<String, List<List<String>>> PANELS = Map.of(
            "sft", List.of(List.of("loss"), List.of("perplexity")),
            "reward", List.of(List.of("loss"), List.of("accuracy", "rewards/accuracies")),
            "ppo", List.of(List.of("env/reward_mean"), List.of("objective/kl"), List.of("ppo/loss/policy", "ppo/loss/value")),
            "dpo", List.of(List.of("loss"), List.of("rewards/margins"), List.of("rewards/accuracies")),
            "grpo", List.of(List.of("reward"), List.of("kl"), List.of("frac_reward_zero_std", "clip_ratio/region_mean")));
    private static final String[] COLORS = {"#1f77b4", "#d62728", "#2ca02c", "#9467bd"};

    private RunReport() {}

    /** Reads {@code dir/STAGE/metrics.jsonl} into a table: step, split, and every numeric metric (NaN where absent). */
    public static Table metrics(Path file) {
        List<JsonNode> rows = new ArrayList<>();
        ObjectMapper json = new ObjectMapper();
        try (BufferedReader r = Files.newBufferedReader(file)) {
            for (String line; (line = r.readLine()) != null; ) {
                if (!line.isBlank()) {
                    rows.add(json.readTree(line));
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        Map<String, DoubleColumn> numeric = new LinkedHashMap<>();
        StringColumn split = StringColumn.create("split");
        for (JsonNode row : rows) {
            row.fields().forEachRemaining(f -> {
                if (f.getValue().isNumber() && !numeric.containsKey(f.getKey())) {
                    numeric.put(f.getKey(), DoubleColumn.create(f.getKey()));
                }
            });
        }
        for (JsonNode row : rows) {
            split.append(row.path("split").asText("train"));
            numeric.forEach((name, col) -> {
                JsonNode v = row.get(name);
                col.append(v != null && v.isNumber() ? v.asDouble() : Double.NaN);
            });
        }
        Table t = Table.create(file.getParent().getFileName().toString(), split);
        numeric.values().forEach(t::addColumns);
        return t;
    }

    /** The page's head and style; {@link #end} closes it. */
    public static String begin(String title) {
        return "<!doctype html><html><head><meta charset=\"utf-8\"><title>" + escape(title) + "</title><style>"
                + "body{font-family:sans-serif;max-width:1100px;margin:2em auto;color:#222}"
                + "table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:4px 10px;text-align:right}"
                + "th{background:#f3f3f3}td:first-child{text-align:left}.panels{display:flex;flex-wrap:wrap;gap:12px}"
                + "code{background:#f6f6f6}</style></head><body>\n<h1>" + escape(title) + "</h1>\n";
    }

    public static String end() {
        return "</body></html>\n";
    }

    /**
     * One stage's section: a heading, its metric curves and (PPO) its last samples; "" when the
     * folder has no metrics.jsonl. The stage kind comes from the folder's recipe.yaml.
     */
    public static String stageSection(String title, Path stageDir) {
        Path file = stageDir.resolve("metrics.jsonl");
        if (!Files.isRegularFile(file)) {
            return "";
        }
        Table t = metrics(file);
        String kind = stageKind(stageDir);
        StringBuilder h = new StringBuilder("<h2>" + escape(title) + " <small>(" + kind + ", " + t.rowCount()
                + " logged rows)</small></h2>\n<div class=\"panels\">\n");
        for (List<String> panel : PANELS.getOrDefault(kind, List.of(List.of("loss")))) {
            h.append(panel(t, panel));
        }
        h.append("</div>\n");
        if (kind.equals("ppo") || kind.equals("grpo")) {
            h.append(samples(stageDir.resolve("samples.jsonl")));
        }
        return h.toString();
    }

    /** The {@code stage:} of the run's resolved recipe.yaml; "sft" when there is none. */
    static String stageKind(Path stageDir) {
        Path recipe = stageDir.resolve("recipe.yaml");
        if (Files.isRegularFile(recipe)) {
            try {
                for (String line : Files.readAllLines(recipe)) {
                    if (line.startsWith("stage:")) {
                        return line.substring(6).trim().replace("\"", "").replace("'", "");
                    }
                }
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
        return "sft";
    }

    /** Writes {@code html} to {@code file} through a temporary file and a rename; returns the file. */
    public static Path writeAtomically(Path file, String html) {
        ai.loro.core.io.AtomicFiles.writeString(file, html);
        return file;
    }

    /** One SVG panel: each metric's train rows (solid) and eval rows (dashed) against the step. */
    public static String panel(Table t, List<String> metrics) {
        record Series(String label, double[] x, double[] y, boolean dashed) {}
        List<Series> series = new ArrayList<>();
        for (String m : metrics) {
            if (!t.columnNames().contains(m)) {
                continue;
            }
            for (String split : List.of("train", "eval")) {
                Table part = t.where(t.stringColumn("split").isEqualTo(split));
                part = part.dropWhere(part.doubleColumn(m).isMissing());
                if (part.rowCount() > 0) {
                    series.add(new Series(m + (split.equals("eval") ? " (eval)" : ""), part.doubleColumn("step").asDoubleArray(),
                            part.doubleColumn(m).asDoubleArray(), split.equals("eval")));
                }
            }
        }
        if (series.isEmpty()) {
            return "";
        }
        double x0 = Double.POSITIVE_INFINITY, x1 = Double.NEGATIVE_INFINITY, y0 = Double.POSITIVE_INFINITY, y1 = Double.NEGATIVE_INFINITY;
        for (Series s : series) {
            for (int i = 0; i < s.x().length; i++) {
                if (Double.isFinite(s.y()[i])) {
                    x0 = Math.min(x0, s.x()[i]);
                    x1 = Math.max(x1, s.x()[i]);
                    y0 = Math.min(y0, s.y()[i]);
                    y1 = Math.max(y1, s.y()[i]);
                }
            }
        }
        if (x1 == x0) {
            x1 = x0 + 1;
        }
        if (y1 == y0) {
            y1 = y0 + 1;
        }
        int w = 340, ht = 220, left = 52, right = 10, top = 28, bottom = 30;
        double sx = (w - left - right) / (x1 - x0), sy = (ht - top - bottom) / (y1 - y0);
        StringBuilder svg = new StringBuilder();
        svg.append(String.format(Locale.ROOT, "<svg width=\"%d\" height=\"%d\" font-size=\"11\" xmlns=\"http://www.w3.org/2000/svg\">", w, ht));
        svg.append(String.format(Locale.ROOT, "<rect x=\"%d\" y=\"%d\" width=\"%d\" height=\"%d\" fill=\"none\" stroke=\"#999\"/>",
                left, top, w - left - right, ht - top - bottom));
        svg.append(String.format(Locale.ROOT, "<text x=\"%d\" y=\"%d\" text-anchor=\"end\">%s</text>", left - 3, top + 8, num(y1)));
        svg.append(String.format(Locale.ROOT, "<text x=\"%d\" y=\"%d\" text-anchor=\"end\">%s</text>", left - 3, ht - bottom, num(y0)));
        svg.append(String.format(Locale.ROOT, "<text x=\"%d\" y=\"%d\">%s</text>", left, ht - bottom + 14, num(x0)));
        svg.append(String.format(Locale.ROOT, "<text x=\"%d\" y=\"%d\" text-anchor=\"end\">step %s</text>", w - right, ht - bottom + 14, num(x1)));
        for (int k = 0; k < series.size(); k++) {
            Series s = series.get(k);
            String color = COLORS[(k / 2 + (s.dashed() ? 1 : 0)) % COLORS.length];
            StringBuilder pts = new StringBuilder();
            for (int i = 0; i < s.x().length; i++) {
                if (Double.isFinite(s.y()[i])) {
                    pts.append(String.format(Locale.ROOT, "%.1f,%.1f ", left + (s.x()[i] - x0) * sx, ht - bottom - (s.y()[i] - y0) * sy));
                }
            }
            svg.append(String.format(Locale.ROOT, "<polyline fill=\"none\" stroke=\"%s\" stroke-width=\"1.5\"%s points=\"%s\"/>",
                    color, s.dashed() ? " stroke-dasharray=\"4 3\"" : "", pts.toString().trim()));
            svg.append(String.format(Locale.ROOT, "<text x=\"%d\" y=\"%d\" fill=\"%s\">%s</text>", left + 4 + 150 * (k % 2),
                    12 + 12 * (k / 2), color, escape(s.label())));
        }
        return svg.append("</svg>\n").toString();
    }

    private static String samples(Path file) {
        if (!Files.isRegularFile(file)) {
            return "";
        }
        try {
            List<String> lines = Files.readAllLines(file);
            ObjectMapper json = new ObjectMapper();
            StringBuilder h = new StringBuilder("<h3>Last PPO samples</h3>\n<table><tr><th>step</th><th>prompt</th><th>response</th><th>reward</th></tr>\n");
            for (String line : lines.subList(Math.max(0, lines.size() - 8), lines.size())) {
                JsonNode s = json.readTree(line);
                h.append(String.format(Locale.ROOT, "<tr><td>%d</td><td><code>%s</code></td><td><code>%s</code></td><td>%.3f</td></tr>%n",
                        s.path("step").asInt(), escape(s.path("prompt").asText()), escape(s.path("response").asText()),
                        s.path("reward").asDouble()));
            }
            return h.append("</table>\n").toString();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static String num(double v) {
        if (v == Math.rint(v) && Math.abs(v) < 1e7) {
            return String.format(Locale.ROOT, "%d", (long) v);
        }
        return Math.abs(v) >= 1000 || (Math.abs(v) < 0.01 && v != 0) ? String.format(Locale.ROOT, "%.2g", v)
                : String.format(Locale.ROOT, "%.3g", v);
    }

    public static String escape(String s) {
        return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("\"", "&quot;").replace("\n", "\\n");
    }
}
