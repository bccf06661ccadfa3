package ai.loro.datasets;

import ai.loro.core.tokenizer.ChatMessage;
import ai.loro.core.tokenizer.LoroTokenizer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import tech.tablesaw.api.StringColumn;
import tech.tablesaw.api.Table;

/**
 * Numbers for {@code loro data inspect}: rows, skipped rows, example lengths (tokens with a
 * tokenizer, else characters of the message contents) with percentiles, and truncation at
 * sequence_len. {@link #report()} formats them as a table and a text histogram.
 *
 * @param lengths every example's untruncated length, in file order
 */
public record DatasetStats(String file, String format, String unit, int rows, int skippedRows,
        List<String> skippedMessages, int examples, long totalLength, double meanLength, int minLength, int p50,
        int p90, int p99, int maxLength, long trainableTokens, int sequenceLen, int truncatedExamples,
        double truncationRate, long truncatedTokens, int droppedNoTrainable, int[] lengths) {

    public static final String TOKENS = "tokens";
    public static final String CHARACTERS = "characters";

    /**
     * Reads and measures a data set. With a tokenizer, examples are encoded as for training
     * (options give the template, sequence_len, train_on_inputs); without one, lengths are characters and
     * there is no truncation count.
     */
    public static DatasetStats compute(Path file, DatasetFormat format, LoroTokenizer tokenizer, EncodeOptions options,
            boolean skipBadRows) {
        BadRows bad = new BadRows(skipBadRows);
        List<Row> rows = DatasetReader.read(file, bad);
        int unreadable = bad.count();
        List<Sample> samples = format.parseAll(rows, bad);
        List<Integer> lens = new ArrayList<>();
        long trainable = 0;
        int truncated = 0;
        long truncatedTokens = 0;
        int dropped = 0;
        String unit;
        int seqLen = options == null ? 0 : options.sequenceLen();
        if (tokenizer != null) {
            unit = TOKENS;
            ExampleEncoder enc = new ExampleEncoder(tokenizer, options);
            for (Sample s : samples) {
                Example full;
                try {
                    full = enc.tokenize(s);
                } catch (ExampleEncoder.TemplateNotPrefixStable e) {
                    throw e;
                } catch (ai.loro.core.LoroException e) {
                    bad.handle(e);
                    continue;
                }
                lens.add(full.length());
                enc.accept(full);
            }
            EncodeStats st = enc.stats();
            trainable = st.trainableTokens();
            truncated = st.truncatedExamples();
            truncatedTokens = st.truncatedTokens();
            dropped = st.droppedNoTrainable();
        } else {
            unit = CHARACTERS;
            for (Sample s : samples) {
                int n = 0;
                if (s instanceof PlainText p) {
                    n = p.text().length();
                } else {
                    for (ChatMessage m : ((Conversation) s).messages()) {
                        n += m.content().length();
                    }
                }
                lens.add(n);
            }
        }
        int[] l = lens.stream().mapToInt(Integer::intValue).toArray();
        int[] sorted = l.clone();
        Arrays.sort(sorted);
        long total = 0;
        for (int x : l) {
            total += x;
        }
        int n = l.length;
        return new DatasetStats(file.toString(), format.id(), unit, rows.size() + unreadable, bad.count(),
                bad.messages(), n, total, n == 0 ? 0 : (double) total / n, n == 0 ? 0 : sorted[0],
                percentile(sorted, 0.50), percentile(sorted, 0.90), percentile(sorted, 0.99), n == 0 ? 0 : sorted[n - 1],
                trainable, tokenizer == null ? 0 : seqLen, truncated, n == 0 ? 0 : (double) truncated / n,
                truncatedTokens, dropped, l);
    }

    /** Nearest-rank percentile of sorted values (0 when empty). */
    public static int percentile(int[] sorted, double q) {
        if (sorted.length == 0) {
            return 0;
        }
        int rank = (int) Math.ceil(q * sorted.length);
        return sorted[Math.min(sorted.length, Math.max(1, rank)) - 1];
    }

    /** The numbers as a Tablesaw table (statistic, value). */
    public Table table() {
        StringColumn k = StringColumn.create("statistic");
        StringColumn v = StringColumn.create("value");
        add(k, v, "rows read", String.valueOf(rows));
        add(k, v, "rows skipped (bad)", String.valueOf(skippedRows));
        add(k, v, "examples", String.valueOf(examples));
        add(k, v, "length unit", unit);
        add(k, v, "total length", String.valueOf(totalLength));
        add(k, v, "mean length", String.format(Locale.ROOT, "%.1f", meanLength));
        add(k, v, "min", String.valueOf(minLength));
        add(k, v, "p50", String.valueOf(p50));
        add(k, v, "p90", String.valueOf(p90));
        add(k, v, "p99", String.valueOf(p99));
        add(k, v, "max", String.valueOf(maxLength));
        if (TOKENS.equals(unit)) {
            add(k, v, "trained tokens (after truncation)", String.valueOf(trainableTokens));
            add(k, v, "sequence_len", String.valueOf(sequenceLen));
            add(k, v, "truncated examples", truncatedExamples + String.format(Locale.ROOT, " (%.2f%%)",
                    100 * truncationRate));
            add(k, v, "tokens dropped by truncation", String.valueOf(truncatedTokens));
            add(k, v, "dropped (no trained tokens)", String.valueOf(droppedNoTrainable));
        }
        return Table.create(file + " (" + format + ")", k, v);
    }

    private static void add(StringColumn k, StringColumn v, String key, String value) {
        k.append(key);
        v.append(value);
    }

    /** A text histogram of lengths: {@code bins} equal-width bins from 0 to the maximum. */
    public String histogram(int bins) {
        StringBuilder sb = new StringBuilder();
        if (lengths.length == 0) {
            return "(no examples)\n";
        }
        int max = Math.max(1, maxLength);
        int width = Math.max(1, (max + bins - 1) / bins);
        int nb = (max + width) / width;
        long[] counts = new long[nb];
        for (int x : lengths) {
            counts[Math.min(nb - 1, x / width)]++;
        }
        long top = Arrays.stream(counts).max().orElse(1);
        int labelWidth = String.valueOf((long) nb * width - 1).length();
        for (int b = 0; b < nb; b++) {
            int bar = (int) Math.round(40.0 * counts[b] / Math.max(1, top));
            if (counts[b] > 0 && bar == 0) {
                bar = 1;
            }
            sb.append(String.format(Locale.ROOT, "%" + labelWidth + "d-%-" + labelWidth + "d | %-40s %d%n",
                    (long) b * width, (long) (b + 1) * width - 1, "#".repeat(bar), counts[b]));
        }
        return sb.toString();
    }

    /** The report {@code loro data inspect} prints. */
    public String report() {
        StringBuilder sb = new StringBuilder();
        sb.append(table().print(100)).append('\n');
        sb.append('\n').append("Length histogram (").append(unit).append("):\n").append(histogram(16));
        if (TOKENS.equals(unit) && truncatedExamples > 0) {
            sb.append(String.format(Locale.ROOT, "%nWarning: %d of %d examples (%.2f%%) are longer than sequence_len %d;"
                    + " %d tokens would be cut.%n", truncatedExamples, examples, 100 * truncationRate, sequenceLen,
                    truncatedTokens));
        }
        sb.append(skipped(skippedMessages));
        return sb.toString();
    }

    /** The "Skipped rows" part of a report: each kept message (file:line and reason), or nothing. */
    public static String skipped(List<String> messages) {
        StringBuilder sb = new StringBuilder();
        if (!messages.isEmpty()) {
            sb.append("\nSkipped rows (first ").append(messages.size()).append("):\n");
            for (String m : messages) {
                sb.append("  ").append(m).append('\n');
            }
        }
        return sb.toString();
    }
}
