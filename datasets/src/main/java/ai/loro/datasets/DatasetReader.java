package ai.loro.datasets;

import ai.loro.core.LoroException;
import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonLocation;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * Reads data set files into {@link Row}s, by extension: {@code .jsonl} (one object per line),
 * {@code .json} (an array of objects, or JSON Lines), {@code .csv} (header row, RFC 4180), each as is or
 * compressed ({@code .jsonl.gz}, {@code .json.zst}, ...: see {@link DataFile}), and {@code .parquet}.
 * Every row keeps its file and line (of the decompressed text) or row index for error messages.
 */
public final class DatasetReader {
    private DatasetReader() {}

    static final ObjectMapper JSON = new ObjectMapper();

    /** Reads file; bad rows (malformed lines, non-object values) throw, or are skipped and counted. */
    public static List<Row> read(Path file, BadRows bad) {
        if (file == null) {
            throw new LoroException("data set: no file given");
        }
        if (!Files.isRegularFile(file)) {
            throw new LoroException(file + ": data set file not found");
        }
        String lower = file.getFileName().toString().toLowerCase(Locale.ROOT);
        DataFile compression = DataFile.of(lower);
        String name = compression.inner(lower);
        if (name.endsWith(".jsonl") || name.endsWith(".ndjson")) {
            return readJsonl(file, compression, bad);
        } else if (name.endsWith(".json")) {
            return readJson(file, compression, bad);
        } else if (name.endsWith(".csv")) {
            return readCsv(file, compression, bad);
        } else if (name.endsWith(".parquet") && compression == DataFile.NONE) {
            return ParquetRows.read(file, bad);
        }
        throw new LoroException(file + ": unknown data set file type; allowed extensions: " + EXTENSIONS);
    }

    /** The file names {@link #read} takes, for messages and help texts. */
    public static final String EXTENSIONS = ".jsonl, .json, .csv (each also .gz or .zst compressed), .parquet";

    public static List<Row> read(Path file) {
        return read(file, BadRows.failFast());
    }

    private static String readText(Path file, DataFile compression) {
        try {
            return StandardCharsets.UTF_8.newDecoder().decode(java.nio.ByteBuffer.wrap(compression.readAll(file)))
                    .toString();
        } catch (CharacterCodingException e) {
            throw new LoroException(file + ": not UTF-8 text");
        }
    }

    static List<Row> readJsonl(Path file, DataFile compression, BadRows bad) {
        List<Row> out = new ArrayList<>();
        long n = 0;
        try (BufferedReader r = new BufferedReader(new InputStreamReader(compression.open(file),
                StandardCharsets.UTF_8.newDecoder()), 1 << 16)) {
            String text;
            while ((text = r.readLine()) != null) {
                n++;
                if (n == 1 && text.startsWith("\uFEFF")) {
                    text = text.substring(1);
                }
                if (text.isBlank()) {
                    continue;
                }
                JsonNode node;
                try {
                    node = JSON.readTree(text);
                } catch (JsonProcessingException e) {
                    bad.handle(new LoroException(file + ":" + n + ": not valid JSON: "
                            + LoroException.oneLine(e.getOriginalMessage(), 200)));
                    continue;
                }
                if (node == null || !node.isObject()) {
                    bad.handle(new LoroException(file + ":" + n + ": expected a JSON object per line, got "
                            + (node == null ? "nothing" : node.getNodeType().toString().toLowerCase(Locale.ROOT))));
                    continue;
                }
                out.add(new Row(file, n, Row.LINE, (ObjectNode) node));
            }
        } catch (CharacterCodingException e) {
            throw new LoroException(file + ": not UTF-8 text");
        } catch (DataFile.Corrupt e) {
            throw new LoroException(file + ": " + e.getMessage() + (n > 0 ? " (after line " + n + ")" : ""));
        } catch (IOException e) {
            throw new LoroException(file + ": cannot read: " + e.getMessage(), e);
        }
        return out;
    }

    static List<Row> readJson(Path file, DataFile compression, BadRows bad) {
        String text = readText(file, compression);
        int k = 0;
        while (k < text.length() && (Character.isWhitespace(text.charAt(k)) || text.charAt(k) == '\uFEFF')) {
            k++;
        }
        if (k >= text.length()) {
            return new ArrayList<>();
        }
        if (text.charAt(k) != '[') {
            return readJsonl(file, compression, bad); // JSON Lines saved as .json
        }
        List<Row> out = new ArrayList<>();
        try (JsonParser p = new JsonFactory().createParser(text)) {
            p.setCodec(JSON);
            p.nextToken(); // [
            long index = 0;
            JsonToken t;
            while ((t = p.nextToken()) != JsonToken.END_ARRAY) {
                if (t == null) {
                    throw new LoroException(file + ": JSON array is not closed");
                }
                index++;
                JsonLocation loc = p.currentTokenLocation();
                long line = loc.getLineNr();
                JsonNode node = p.readValueAsTree();
                if (node == null || !node.isObject()) {
                    bad.handle(new LoroException(file + ":" + line + ": array element " + index
                            + " must be a JSON object, got " + (node == null ? "nothing"
                            : node.getNodeType().toString().toLowerCase(Locale.ROOT))));
                    continue;
                }
                out.add(new Row(file, line, Row.LINE, (ObjectNode) node));
            }
            if (p.nextToken() != null) {
                throw new LoroException(file + ":" + p.currentTokenLocation().getLineNr()
                        + ": text after the closing ] of the JSON array");
            }
        } catch (JsonProcessingException e) {
            JsonLocation loc = e.getLocation();
            throw new LoroException(file + ":" + (loc == null ? "?" : loc.getLineNr() + ":" + loc.getColumnNr())
                    + ": not valid JSON: " + LoroException.oneLine(e.getOriginalMessage(), 200));
        } catch (IOException e) {
            throw new LoroException(file + ": cannot read: " + e.getMessage(), e);
        }
        return out;
    }

    static List<Row> readCsv(Path file, DataFile compression, BadRows bad) {
        String text = readText(file, compression);
        List<Row> out = new ArrayList<>();
        List<String> header = new ArrayList<>();
        Csv.parse(text, file.toString(), rec -> {
            if (header.isEmpty()) {
                for (int i = 0; i < rec.fields().size(); i++) {
                    String h = rec.fields().get(i).strip();
                    if (h.isEmpty()) {
                        throw new LoroException(file + ":" + rec.line() + ": CSV header column " + (i + 1)
                                + " has no name; the first row must name every column");
                    }
                    if (header.contains(h)) {
                        throw new LoroException(file + ":" + rec.line() + ": CSV header names column '" + h
                                + "' twice");
                    }
                    header.add(h);
                }
                return;
            }
            if (rec.fields().size() != header.size()) {
                bad.handle(new LoroException(file + ":" + rec.line() + ": CSV record has " + rec.fields().size()
                        + " fields, the header has " + header.size() + " (quote fields that hold commas)"));
                return;
            }
            ObjectNode o = JSON.createObjectNode();
            for (int i = 0; i < header.size(); i++) {
                o.put(header.get(i), rec.fields().get(i));
            }
            out.add(new Row(file, rec.line(), Row.LINE, o));
        });
        if (header.isEmpty()) {
            throw new LoroException(file + ": CSV file is empty; the first row must name the columns");
        }
        return out;
    }


}
