package ai.loro.dpo;

import ai.loro.core.LoroException;
import ai.loro.datasets.DatasetReader;
import ai.loro.datasets.EncodedPair;
import ai.loro.datasets.Row;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.BufferedReader;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

/**
 * The reference log-probs a DPO stage reads instead of computing them ({@code dpo.reference_log_probs}): the output
 * folder of {@code loro spark ref-logprobs} (jsonl or parquet part files), one row per input pair with {@code row}
 * (its 0-based line in the pairs file), {@code chosen_input_ids}, {@code rejected_input_ids}, {@code ref_chosen_logps}
 * and {@code ref_rejected_logps}. A training pair finds its row by identity: the line it came from (its source,
 * {@code file:line}) gives the row, and the row's token ids must be the pair's own (same tokenizer, template and
 * sequence_len), else the stage stops with one line naming the folder and the row.
 */
public final class ReferenceLogProbsFolder {
    private record Entry(long[] chosen, long[] rejected, float chosenLogp, float rejectedLogp) {}

    private static final ObjectMapper JSON = new ObjectMapper();

    private final Path dir;
    private final Map<Long, Entry> rows;

    private ReferenceLogProbsFolder(Path dir, Map<Long, Entry> rows) {
        this.dir = dir;
        this.rows = rows;
    }

    /** Reads every part file of {@code dir}. */
    public static ReferenceLogProbsFolder read(Path dir) {
        String key = "dpo.reference_log_probs " + dir;
        if (!Files.isDirectory(dir)) {
            throw new LoroException(key + ": not a folder (give the --output folder of loro spark ref-logprobs)");
        }
        List<Path> parts;
        try (Stream<Path> files = Files.list(dir)) {
            parts = files.filter(f -> f.getFileName().toString().startsWith("part-")).sorted().toList();
        } catch (IOException e) {
            throw new LoroException(key + ": cannot list the folder (" + e.getMessage() + ")");
        }
        if (parts.isEmpty()) {
            throw new LoroException(key + ": no part files (give the --output folder of loro spark ref-logprobs)");
        }
        Map<Long, Entry> rows = new HashMap<>();
        for (Path part : parts) {
            for (JsonNode j : objects(part, key)) {
                String where = key + ", " + part.getFileName();
                long row = j.path("row").asLong(-1);
                for (String f : new String[] {"row", "chosen_input_ids", "rejected_input_ids", "ref_chosen_logps", "ref_rejected_logps"}) {
                    if (!j.hasNonNull(f)) {
                        throw new LoroException(where + ": a row without '" + f + "' (not written by loro spark ref-logprobs)");
                    }
                }
                Entry e = new Entry(ids(j.get("chosen_input_ids")), ids(j.get("rejected_input_ids")),
                        (float) j.get("ref_chosen_logps").asDouble(), (float) j.get("ref_rejected_logps").asDouble());
                if (rows.put(row, e) != null) {
                    throw new LoroException(where + ": row " + row + " appears twice");
                }
            }
        }
        return new ReferenceLogProbsFolder(dir, rows);
    }

    /** {chosen, rejected} reference log-probs of a pair, checked against its token ids (unpadded). */
    public float[] lookup(String source, long[] chosenIds, long[] rejectedIds) {
        long row = row(source);
        Entry e = rows.get(row);
        String key = "dpo.reference_log_probs " + dir;
        if (e == null) {
            throw new LoroException(key + ": no row " + row + " for the pair at " + source + " (was the folder written from this"
                    + " data set?)");
        }
        if (!Arrays.equals(e.chosen(), chosenIds) || !Arrays.equals(e.rejected(), rejectedIds)) {
            throw new LoroException(key + ": row " + row + " holds other token ids than the pair at " + source + " (write it from"
                    + " the same pairs file with the recipe's model tokenizer, chat template and sequence_len)");
        }
        return new float[] {e.chosenLogp(), e.rejectedLogp()};
    }

    /** Checks every pair up front, so a bad folder stops the stage before training. */
    public void checkAll(List<EncodedPair> pairs) {
        for (EncodedPair p : pairs) {
            lookup(p.source(), p.chosenIds(), p.rejectedIds());
        }
    }

    /** The 0-based input line of a pair from its source ({@code file:line}, lines from 1). */
    static long row(String source) {
        int colon = source.lastIndexOf(':');
        try {
            return Long.parseLong(source.substring(colon + 1)) - 1;
        } catch (NumberFormatException | IndexOutOfBoundsException e) {
            throw new LoroException("dpo.reference_log_probs: the pair at " + source + " has no line number (the pairs must come"
                    + " from a .jsonl data set, as loro spark ref-logprobs reads them)");
        }
    }

    private static List<JsonNode> objects(Path part, String key) {
        List<JsonNode> out = new ArrayList<>();
        String name = part.getFileName().toString();
        if (name.endsWith(".parquet")) {
            for (Row r : DatasetReader.read(part)) {
                out.add(r.data());
            }
            return out;
        }
        if (name.endsWith(".crc")) {
            return out;
        }
        try (BufferedReader r = Files.newBufferedReader(part, StandardCharsets.UTF_8)) {
            String line;
            int n = 0;
            while ((line = r.readLine()) != null) {
                n++;
                if (!line.isBlank()) {
                    JsonNode j;
                    try {
                        j = JSON.readTree(line);
                    } catch (IOException e) {
                        throw new LoroException(key + ", " + name + ":" + n + ": not valid JSON");
                    }
                    out.add(j);
                }
            }
        } catch (IOException e) {
            throw new LoroException(key + ", " + name + ": cannot read (" + e.getMessage() + ")");
        }
        return out;
    }

    private static long[] ids(JsonNode a) {
        long[] out = new long[a.size()];
        for (int i = 0; i < out.length; i++) {
            out[i] = a.get(i).asLong();
        }
        return out;
    }
}
