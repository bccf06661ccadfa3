package ai.loro.rlhf;

import ai.loro.core.LoroException;
import ai.loro.core.tokenizer.ChatMessage;
import ai.loro.core.tokenizer.ChatTemplate;
import ai.loro.core.tokenizer.LoroTokenizer;
import ai.loro.datasets.BadRows;
import ai.loro.datasets.Bos;
import ai.loro.datasets.DatasetReader;
import ai.loro.datasets.DatasetStats;
import ai.loro.datasets.LengthTable;
import ai.loro.datasets.Row;
import ai.loro.datasets.Templates;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import tech.tablesaw.api.StringColumn;
import tech.tablesaw.api.Table;

/**
 * Numbers for {@code loro data inspect --type prompt}: the rows PPO and GRPO read ({@link Prompts}), parsed by the
 * same rules; with a tokenizer each prompt rendered through the chat template with the generation prompt and
 * tokenized as the stages do, and how many the stages would drop for leaving no room for {@code max_new_tokens}
 * inside {@code sequence_len}; without one, characters of the message contents.
 *
 * @param lengths every usable prompt's length, in file order
 * @param tooLong prompts longer than {@code sequenceLen − maxNewTokens} tokens (0 without a tokenizer)
 */
public record PromptDataStats(String file, String unit, int rows, int skippedRows, List<String> skippedMessages,
        int prompts, int withAnswer, int[] lengths, int sequenceLen, int maxNewTokens, int tooLong) {

    public static PromptDataStats compute(Path file, LoroTokenizer tokenizer, String templateName, int sequenceLen,
            int maxNewTokens, boolean skipBadRows) {
        int maxPrompt = sequenceLen - maxNewTokens;
        if (tokenizer != null && maxPrompt < 1) {
            throw new LoroException("--sequence-len " + sequenceLen + " leaves no room for a prompt after --max-new-tokens "
                    + maxNewTokens);
        }
        BadRows bad = new BadRows(skipBadRows);
        List<Row> rows = DatasetReader.read(file, bad);
        int unreadable = bad.count();
        ChatTemplate template = tokenizer == null ? null : Templates.resolve(templateName == null ? "tokenizer"
                : templateName, tokenizer);
        Map<String, Object> vars = tokenizer == null ? Map.of() : new HashMap<>(tokenizer.specialTokensMap());
        Long bos = tokenizer == null ? null : Bos.toPrepend(tokenizer);
        int[] lengths = new int[rows.size()];
        int n = 0;
        int withAnswer = 0;
        int tooLong = 0;
        for (Row row : rows) {
            try {
                List<ChatMessage> msgs = Prompts.messages(row);
                String answer = Prompts.optionalString(row, "answer");
                int length;
                if (tokenizer == null) {
                    length = msgs.stream().mapToInt(m -> m.content().length()).sum();
                } else {
                    length = Prompts.encode(tokenizer, template.render(msgs, true, vars), bos).length;
                    if (length > maxPrompt) {
                        tooLong++;
                    }
                }
                lengths[n++] = length;
                if (answer != null) {
                    withAnswer++;
                }
            } catch (LoroException e) {
                bad.handle(e);
            }
        }
        return new PromptDataStats(file.toString(), tokenizer == null ? DatasetStats.CHARACTERS : DatasetStats.TOKENS,
                rows.size() + unreadable, bad.count(), bad.messages(), n, withAnswer, Arrays.copyOf(lengths, n),
                tokenizer == null ? 0 : sequenceLen, maxNewTokens, tooLong);
    }

    public Table counts() {
        StringColumn k = StringColumn.create("statistic");
        StringColumn v = StringColumn.create("value");
        LengthTable.add(k, v, "rows read", rows);
        LengthTable.add(k, v, "rows skipped (bad)", skippedRows);
        LengthTable.add(k, v, "prompts", prompts);
        LengthTable.add(k, v, "with an answer (for reward functions)", LengthTable.percentOf(withAnswer, prompts));
        if (unit.equals(DatasetStats.TOKENS)) {
            LengthTable.add(k, v, "sequence_len", sequenceLen);
            LengthTable.add(k, v, "max_new_tokens", maxNewTokens);
            LengthTable.add(k, v, "dropped: longer than " + (sequenceLen - maxNewTokens) + " tokens",
                    LengthTable.percentOf(tooLong, prompts));
            LengthTable.add(k, v, "prompts kept", prompts - tooLong);
        }
        return Table.create("prompts", k, v);
    }

    public Table lengthTable() {
        return LengthTable.of(file + " (prompt)", unit, new String[] {"prompt"}, lengths);
    }

    /** The report {@code loro data inspect} prints for prompt data. */
    public String report() {
        StringBuilder sb = new StringBuilder();
        sb.append(counts().print(100)).append("\n\n").append(lengthTable().print(100)).append('\n');
        if (tooLong > 0) {
            sb.append(String.format(java.util.Locale.ROOT, "%nWarning: %d of %d prompts leave no room for %d new tokens"
                    + " inside sequence_len %d and would be dropped.%n", tooLong, prompts, maxNewTokens, sequenceLen));
        }
        sb.append(DatasetStats.skipped(skippedMessages));
        return sb.toString();
    }
}
