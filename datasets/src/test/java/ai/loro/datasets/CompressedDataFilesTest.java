package ai.loro.datasets;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.loro.core.LoroException;
import io.airlift.compress.zstd.ZstdOutputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.net.URISyntaxException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.zip.GZIPOutputStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** .gz and .zst data files read as their plain forms, with line numbers of the decompressed text. */
class CompressedDataFilesTest {
    @TempDir Path dir;

    static byte[] gzip(String text) throws IOException {
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        try (OutputStream o = new GZIPOutputStream(b)) {
            o.write(text.getBytes(StandardCharsets.UTF_8));
        }
        return b.toByteArray();
    }

    static byte[] zstd(String text) throws IOException {
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        try (OutputStream o = new ZstdOutputStream(b)) {
            o.write(text.getBytes(StandardCharsets.UTF_8));
        }
        return b.toByteArray();
    }

    private Path file(String name, byte[] bytes) throws IOException {
        return Files.write(dir.resolve(name), bytes);
    }

    static Path resource(String name) throws URISyntaxException {
        return Path.of(CompressedDataFilesTest.class.getResource("/" + name).toURI());
    }

    static final String JSONL = "{\"text\":\"one\"}\n\n{\"text\":\"caf\u00e9\"}\n{\"text\": oops}\n";

    @Test
    void gzipAndZstdJsonlKeepDecompressedLineNumbers() throws IOException {
        for (Path f : List.of(file("a.jsonl.gz", gzip(JSONL)), file("a.JSONL.ZST", zstd(JSONL)))) {
            LoroException e = assertThrows(LoroException.class, () -> DatasetReader.read(f));
            assertTrue(e.getMessage().startsWith(f + ":4: not valid JSON"), e.getMessage());
            BadRows bad = BadRows.skipAndCount();
            List<Row> rows = DatasetReader.read(f, bad);
            assertEquals(2, rows.size());
            assertEquals(1, bad.count());
            assertEquals(f + ":3", rows.get(1).where());
            assertEquals("caf\u00e9", rows.get(1).data().get("text").asText());
        }
    }

    @Test
    void compressedJsonArrayAndCsv() throws IOException {
        String json = "[\n {\"instruction\": \"a\", \"output\": \"b\"},\n {\"instruction\": \"c\", \"output\": \"d\"}\n]\n";
        for (Path f : List.of(file("a.json.gz", gzip(json)), file("a.json.zst", zstd(json)))) {
            List<Row> rows = DatasetReader.read(f);
            assertEquals(2, rows.size());
            assertEquals(3, rows.get(1).line());
            assertEquals("c", rows.get(1).data().get("instruction").asText());
        }
        String csv = "text,label\n\"a, b\",1\n\"multi\nline\",0\n";
        for (Path f : List.of(file("a.csv.gz", gzip(csv)), file("a.csv.zst", zstd(csv)))) {
            List<Row> rows = DatasetReader.read(f);
            assertEquals(2, rows.size());
            assertEquals("multi\nline", rows.get(1).data().get("text").asText());
            assertEquals(3, rows.get(1).line());
        }
    }

    @Test
    void oasstTreeExportMadeByGzipAndZstdTools() throws Exception {
        // Written by gzip(1) and zstd(1) (with a content checksum), as the oasst1 *.trees.jsonl.gz exports are.
        for (String name : List.of("compressed/oasst.trees.jsonl.gz", "compressed/oasst.trees.jsonl.zst")) {
            List<PreferencePair> pairs = PreferenceFormat.OASST.parseAll(DatasetReader.read(resource(name)),
                    BadRows.failFast());
            assertEquals(4, pairs.size(), name); // t1: 1 pair of 2 ranked replies; t2: 3 pairs of 3
            assertEquals("Paris.", pairs.get(0).chosen().get(0).content());
            assertEquals("Paris, I think.", pairs.get(0).rejected().get(0).content());
            assertTrue(pairs.get(1).source().startsWith(resource(name) + ":2"), pairs.get(1).source());
        }
    }

    @Test
    void hhRlhfGzipThroughThePreferenceFormat() throws IOException {
        String row = "{\"chosen\": \"\\n\\nHuman: Hi?\\n\\nAssistant: Hello!\", "
                + "\"rejected\": \"\\n\\nHuman: Hi?\\n\\nAssistant: Go away.\"}\n";
        Path f = file("train.jsonl.gz", gzip(row + row));
        List<PreferencePair> pairs = PreferenceFormat.HH_RLHF.parseAll(DatasetReader.read(f), BadRows.failFast());
        assertEquals(2, pairs.size());
        assertEquals("Hello!", pairs.get(1).chosen().get(0).content());
        assertEquals(f + ":2", pairs.get(1).source());
    }

    @Test
    void corruptStreamsNameTheFile() throws IOException {
        Path notGzip = file("x.jsonl.gz", "{\"text\": \"plain\"}\n".getBytes(StandardCharsets.UTF_8));
        LoroException e = assertThrows(LoroException.class, () -> DatasetReader.read(notGzip));
        assertTrue(e.getMessage().startsWith(notGzip + ": not valid gzip data ("), e.getMessage());

        StringBuilder many = new StringBuilder();
        for (int i = 0; i < 20000; i++) {
            many.append("{\"text\": \"row ").append(i).append(" ").append(Integer.toHexString(i * 7919)).append("\"}\n");
        }
        byte[] gz = gzip(many.toString());
        Path truncated = file("t.jsonl.gz", Arrays.copyOf(gz, gz.length / 2));
        e = assertThrows(LoroException.class, () -> DatasetReader.read(truncated));
        assertTrue(e.getMessage().matches(java.util.regex.Pattern.quote(truncated.toString())
                + ": not valid gzip data \\(.*\\).* \\(after line \\d+\\)"), e.getMessage());

        Path notZstd = file("x.json.zst", "[{\"a\": 1}]".getBytes(StandardCharsets.UTF_8));
        e = assertThrows(LoroException.class, () -> DatasetReader.read(notZstd));
        assertTrue(e.getMessage().startsWith(notZstd + ": not valid zstd data ("), e.getMessage());

        byte[] zs = zstd(many.toString());
        zs[zs.length / 2] ^= 0x55;
        zs[zs.length / 2 + 1] ^= 0x55;
        Path damaged = file("d.csv.zst", zs);
        e = assertThrows(LoroException.class, () -> DatasetReader.read(damaged));
        assertTrue(e.getMessage().startsWith(damaged + ": not valid zstd data ("), e.getMessage());
    }

    @Test
    void compressedParquetIsNotAFileType() throws IOException {
        Path f = file("x.parquet.gz", gzip("x"));
        LoroException e = assertThrows(LoroException.class, () -> DatasetReader.read(f));
        assertEquals(f + ": unknown data set file type; allowed extensions: " + DatasetReader.EXTENSIONS, e.getMessage());
    }
}
