package ai.loro.reward;

import ai.loro.core.LoroException;
import ai.loro.core.tokenizer.LoroTokenizer;
import ai.loro.datasets.BadRows;
import ai.loro.datasets.DatasetReader;
import ai.loro.datasets.DatasetStats;
import ai.loro.datasets.LengthTable;
import ai.loro.datasets.Row;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import tech.tablesaw.api.StringColumn;
import tech.tablesaw.api.Table;

/**
 * Numbers for {@code loro data inspect --type classification}: rows, bad rows, the count of each label as written
 * (an index or a name: the labels a classifier with {@code reward.num_labels} outputs must cover), text lengths
 * (tokens with a tokenizer, encoded as {@link ClassifierStage} encodes them, else characters) and how many texts
 * {@code sequence_len} would cut (the classifier keeps the first {@code sequence_len} tokens).
 *
 * @param labels label → count, ordered numerically for indices, then names alphabetically
 */
public record ClassificationDataStats(String file, String unit, int rows, int skippedRows, List<String> skippedMessages,
        int texts, Map<String, Integer> labels, int[] lengths, int sequenceLen, int truncated) {

    public static ClassificationDataStats compute(Path file, LoroTokenizer tokenizer, int sequenceLen, boolean skipBadRows) {
        BadRows bad = new BadRows(skipBadRows);
        List<Row> rows = DatasetReader.read(file, bad);
        int unreadable = bad.count();
        Map<String, Integer> labels = new TreeMap<>(ClassificationDataStats::labelOrder);
        int[] lengths = new int[rows.size()];
        int n = 0;
        int truncated = 0;
        for (Row row : rows) {
            try {
                LabelledText item = LabelledText.parse(row);
                String label = item.labelKey(row);
                int length = tokenizer == null ? item.text().length() : tokenizer.encode(item.text(), true).length;
                if (tokenizer != null && length > sequenceLen) {
                    truncated++;
                }
                labels.merge(label, 1, Integer::sum);
                lengths[n++] = length;
            } catch (LoroException e) {
                bad.handle(e);
            }
        }
        return new ClassificationDataStats(file.toString(), tokenizer == null ? DatasetStats.CHARACTERS
                : DatasetStats.TOKENS, rows.size() + unreadable, bad.count(), bad.messages(), n, labels,
                Arrays.copyOf(lengths, n), tokenizer == null ? 0 : sequenceLen, truncated);
    }

    /** Indices before names, indices by value. */
    private static int labelOrder(String a, String b) {
        boolean na = a.chars().allMatch(Character::isDigit);
        boolean nb = b.chars().allMatch(Character::isDigit);
        if (na && nb) {
            return Long.compare(Long.parseLong(a), Long.parseLong(b));
        }
        return na != nb ? (na ? -1 : 1) : a.compareTo(b);
    }

    public Table counts() {
        StringColumn k = StringColumn.create("statistic");
        StringColumn v = StringColumn.create("value");
        LengthTable.add(k, v, "rows read", rows);
        LengthTable.add(k, v, "rows skipped (bad)", skippedRows);
        LengthTable.add(k, v, "texts", texts);
        LengthTable.add(k, v, "distinct labels", labels.size());
        if (unit.equals(DatasetStats.TOKENS)) {
            LengthTable.add(k, v, "sequence_len", sequenceLen);
            LengthTable.add(k, v, "texts truncated", LengthTable.percentOf(truncated, texts));
        }
        return Table.create("texts", k, v);
    }

    public Table labelTable() {
        StringColumn k = StringColumn.create("label");
        StringColumn v = StringColumn.create("texts");
        labels.forEach((label, count) -> LengthTable.add(k, v, label, LengthTable.percentOf(count, texts)));
        return Table.create("labels", k, v);
    }

    /** The report {@code loro data inspect} prints for classification data. */
    public String report() {
        StringBuilder sb = new StringBuilder();
        sb.append(counts().print(100)).append("\n\n").append(labelTable().print(100)).append("\n\n")
                .append(LengthTable.of(file + " (classification)", unit, new String[] {"text"}, lengths).print(100))
                .append('\n');
        if (truncated > 0) {
            sb.append(String.format(java.util.Locale.ROOT, "%nWarning: at sequence_len %d, %d of %d texts would be cut"
                    + " (the classifier reads the first %d tokens).%n", sequenceLen, truncated, texts, sequenceLen));
        }
        sb.append(DatasetStats.skipped(skippedMessages));
        return sb.toString();
    }
}
