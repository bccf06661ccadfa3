package ai.loro.datasets;

import ai.loro.core.tokenizer.ChatMessage;
import ai.loro.core.tokenizer.LoroTokenizer;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import tech.tablesaw.api.StringColumn;
import tech.tablesaw.api.Table;

/**
 * Numbers for {@code loro data inspect} on preference data: rows, skipped rows with their reasons, pairs, and the
 * lengths of prompts, chosen and rejected responses (tokens with a tokenizer, encoded as the reward and DPO stages
 * encode them; else characters of the message contents) as the same nearest-rank percentiles {@link DatasetStats}
 * gives; with a tokenizer also how many chosen and rejected sequences (prompt + response) sequence_len would cut,
 * and the pairs it would drop.
 *
 * @param prompt   every pair's prompt length, in file order (likewise chosen and rejected: the responses alone)
 * @param encoding the encoder's counts (null without a tokenizer)
 */
public record PreferenceDataStats(String file, String format, String unit, int rows, int skippedRows,
        List<String> skippedMessages, int pairs, int[] prompt, int[] chosen, int[] rejected, int sequenceLen,
        PreferenceStats encoding) {

    /** Reads, parses and (with a tokenizer) encodes a preference data set; options give template and sequence_len. */
    public static PreferenceDataStats compute(Path file, PreferenceFormat format, LoroTokenizer tokenizer,
            EncodeOptions options, boolean skipBadRows) {
        BadRows bad = new BadRows(skipBadRows);
        List<Row> rows = DatasetReader.read(file, bad);
        int unreadable = bad.count();
        List<PreferencePair> pairs = format.parseAll(rows, bad);
        int n = 0;
        int[] p = new int[pairs.size()];
        int[] c = new int[pairs.size()];
        int[] r = new int[pairs.size()];
        PreferenceStats encoding = null;
        if (tokenizer != null) {
            PreferenceEncoder enc = new PreferenceEncoder(tokenizer, options);
            for (EncodedPair full : bad.encodeEach(pairs, enc::tokenize)) {
                p[n] = full.promptLength();
                c[n] = full.chosenIds().length - full.promptLength();
                r[n] = full.rejectedIds().length - full.promptLength();
                n++;
                enc.accept(full);
            }
            encoding = enc.stats();
        } else {
            for (PreferencePair pair : pairs) {
                p[n] = chars(pair.prompt());
                c[n] = chars(pair.chosen());
                r[n] = chars(pair.rejected());
                n++;
            }
        }
        return new PreferenceDataStats(file.toString(), format.id(), tokenizer == null ? DatasetStats.CHARACTERS
                : DatasetStats.TOKENS, rows.size() + unreadable, bad.count(), bad.messages(), n, Arrays.copyOf(p, n),
                Arrays.copyOf(c, n), Arrays.copyOf(r, n), tokenizer == null ? 0 : options.sequenceLen(), encoding);
    }

    private static int chars(List<ChatMessage> msgs) {
        int n = 0;
        for (ChatMessage m : msgs) {
            n += m.content().length();
        }
        return n;
    }

    /** Nearest-rank percentile {@code q} of {@code values} (0 when empty), as {@link DatasetStats#percentile}. */
    public static int percentile(int[] values, double q) {
        int[] s = values.clone();
        Arrays.sort(s);
        return DatasetStats.percentile(s, q);
    }

    /** Lengths: one row per statistic (mean, min, p50, p90, p99, max), a column each for prompt, chosen, rejected. */
    public Table lengths() {
        return LengthTable.of(file + " (" + format + ")", unit, new String[] {"prompt", "chosen", "rejected"}, prompt,
                chosen, rejected);
    }

    /** The counts: rows, skipped, pairs, and with a tokenizer what sequence_len cuts and drops. */
    public Table counts() {
        StringColumn k = StringColumn.create("statistic");
        StringColumn v = StringColumn.create("value");
        add(k, v, "rows read", String.valueOf(rows));
        add(k, v, "rows skipped (bad)", String.valueOf(skippedRows));
        add(k, v, "pairs", String.valueOf(pairs));
        if (encoding != null) {
            add(k, v, "sequence_len", String.valueOf(sequenceLen));
            add(k, v, "chosen truncated", percentOfPairs(encoding.truncatedChosen()));
            add(k, v, "rejected truncated", percentOfPairs(encoding.truncatedRejected()));
            add(k, v, "response tokens cut", String.valueOf(encoding.truncatedTokens()));
            add(k, v, "dropped: prompt fills sequence_len", String.valueOf(encoding.droppedPromptTooLong()));
            add(k, v, "dropped: no trained tokens left", String.valueOf(encoding.droppedNoTrainable()));
            add(k, v, "pairs kept", String.valueOf(encoding.kept()));
        }
        return Table.create("pairs", k, v);
    }

    private String percentOfPairs(int count) {
        return LengthTable.percentOf(count, pairs);
    }

    private static void add(StringColumn k, StringColumn v, String key, String value) {
        LengthTable.add(k, v, key, value);
    }

    /** The report {@code loro data inspect} prints for preference data. */
    public String report() {
        StringBuilder sb = new StringBuilder();
        sb.append(counts().print(100)).append("\n\n").append(lengths().print(100)).append('\n');
        if (encoding != null && (encoding.truncatedChosen() > 0 || encoding.truncatedRejected() > 0)) {
            sb.append(String.format(Locale.ROOT, "%nWarning: at sequence_len %d, %d chosen and %d rejected of %d pairs"
                    + " would be cut (%d response tokens).%n", sequenceLen, encoding.truncatedChosen(),
                    encoding.truncatedRejected(), pairs, encoding.truncatedTokens()));
        }
        sb.append(DatasetStats.skipped(skippedMessages));
        return sb.toString();
    }
}
