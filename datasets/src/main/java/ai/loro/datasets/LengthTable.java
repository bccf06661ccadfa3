package ai.loro.datasets;

import java.util.Arrays;
import java.util.Locale;
import tech.tablesaw.api.StringColumn;
import tech.tablesaw.api.Table;

/**
 * The lengths table {@code loro data inspect} prints: one row per statistic (mean, min, p50, p90, p99, max, the
 * nearest-rank percentiles of {@link DatasetStats#percentile}), one column per measured part (prompt, chosen, ...).
 */
public final class LengthTable {
    private LengthTable() {}

    private static final String[] STATISTICS = {"mean", "min", "p50", "p90", "p99", "max"};
    private static final double[] QUANTILES = {0, 0, 0.50, 0.90, 0.99, 1};

    /** @param columns the column names; {@code values[j]} the lengths of column j, in any order */
    public static Table of(String title, String unit, String[] columns, int[]... values) {
        StringColumn k = StringColumn.create("length (" + unit + ")");
        StringColumn[] cols = new StringColumn[columns.length];
        int[][] sorted = new int[columns.length][];
        for (int j = 0; j < columns.length; j++) {
            cols[j] = StringColumn.create(columns[j]);
            sorted[j] = values[j].clone();
            Arrays.sort(sorted[j]);
        }
        for (int i = 0; i < STATISTICS.length; i++) {
            k.append(STATISTICS[i]);
            for (int j = 0; j < columns.length; j++) {
                int[] v = sorted[j];
                String cell;
                if (i == 0) {
                    cell = String.format(Locale.ROOT, "%.1f", Arrays.stream(v).average().orElse(0));
                } else if (i == 1) {
                    cell = String.valueOf(v.length == 0 ? 0 : v[0]);
                } else {
                    cell = String.valueOf(DatasetStats.percentile(v, QUANTILES[i]));
                }
                cols[j].append(cell);
            }
        }
        Table t = Table.create(title, k);
        for (StringColumn c : cols) {
            t.addColumns(c);
        }
        return t;
    }

    /** Appends a statistic/value row to a counts table's two columns. */
    public static void add(StringColumn keys, StringColumn values, String key, Object value) {
        keys.append(key);
        values.append(String.valueOf(value));
    }

    /** {@code count} with its share of {@code of} in percent: "3 (1.50%)". */
    public static String percentOf(int count, int of) {
        return count + String.format(Locale.ROOT, " (%.2f%%)", of == 0 ? 0.0 : 100.0 * count / of);
    }
}
