package ai.loro.datasets;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.loro.core.LoroException;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class DatasetReaderTest {
    @TempDir Path dir;

    @Test
    void jsonlKeepsLineNumbersAndSkipsBlankLines() {
        Path f = TestData.write(dir, "a.jsonl", "{\"text\":\"one\"}\n\n{\"text\":\"two\"}\n");
        List<Row> rows = DatasetReader.read(f);
        assertEquals(2, rows.size());
        assertEquals(1, rows.get(0).line());
        assertEquals(3, rows.get(1).line());
        assertEquals(f + ":3", rows.get(1).where());
        assertEquals("two", rows.get(1).data().get("text").asText());
    }

    @Test
    void malformedJsonlLineNamesFileAndLine() {
        Path f = TestData.write(dir, "bad.jsonl", "{\"text\":\"one\"}\n{\"text\": oops}\n[1,2]\n{\"text\":\"ok\"}\n");
        LoroException e = assertThrows(LoroException.class, () -> DatasetReader.read(f));
        assertTrue(e.getMessage().startsWith(f + ":2: not valid JSON"), e.getMessage());

        BadRows bad = BadRows.skipAndCount();
        List<Row> rows = DatasetReader.read(f, bad);
        assertEquals(2, rows.size());
        assertEquals(2, bad.count());
        assertTrue(bad.messages().get(1).startsWith(f + ":3: expected a JSON object"), bad.messages().get(1));
        assertEquals(4, rows.get(1).line());
    }

    @Test
    void jsonArrayRowsCarryTheirLine() {
        Path f = TestData.write(dir, "a.json", "[\n  {\"text\": \"one\"},\n  {\n    \"text\": \"two\"\n  }\n]\n");
        List<Row> rows = DatasetReader.read(f);
        assertEquals(2, rows.size());
        assertEquals(2, rows.get(0).line());
        assertEquals(3, rows.get(1).line());
        assertEquals("two", rows.get(1).data().get("text").asText());
    }

    @Test
    void jsonArrayWithNonObjectIsBadRow() {
        Path f = TestData.write(dir, "a.json", "[{\"text\": \"one\"},\n 42]");
        LoroException e = assertThrows(LoroException.class, () -> DatasetReader.read(f));
        assertTrue(e.getMessage().startsWith(f + ":2: array element 2 must be a JSON object"), e.getMessage());
        BadRows bad = BadRows.skipAndCount();
        assertEquals(1, DatasetReader.read(f, bad).size());
        assertEquals(1, bad.count());
    }

    @Test
    void brokenJsonArrayNamesLine() {
        Path f = TestData.write(dir, "a.json", "[{\"text\": \"one\"},\n {\"text\": }]");
        LoroException e = assertThrows(LoroException.class, () -> DatasetReader.read(f));
        assertTrue(e.getMessage().startsWith(f + ":2:"), e.getMessage());
    }

    @Test
    void jsonLinesInDotJson() {
        Path f = TestData.write(dir, "a.json", "{\"text\":\"one\"}\n{\"text\":\"two\"}\n");
        List<Row> rows = DatasetReader.read(f);
        assertEquals(2, rows.size());
        assertEquals(2, rows.get(1).line());
    }

    @Test
    void csvQuotingPerRfc4180() {
        String csv = "instruction,input,output\r\n"
                + "\"Say \"\"hi\"\"\",,\"Hi, there\"\r\n"
                + "\"Two\nlines\",x,\"a\r\nb\"\r\n"
                + "plain, spaced ,\"\"\r\n"
                + "\n"
                + "last,row,end";
        Path f = TestData.write(dir, "a.csv", csv);
        List<Row> rows = DatasetReader.read(f);
        assertEquals(4, rows.size());
        assertEquals("Say \"hi\"", rows.get(0).data().get("instruction").asText());
        assertEquals("", rows.get(0).data().get("input").asText());
        assertEquals("Hi, there", rows.get(0).data().get("output").asText());
        assertEquals("Two\nlines", rows.get(1).data().get("instruction").asText());
        assertEquals("a\r\nb", rows.get(1).data().get("output").asText());
        assertEquals(" spaced ", rows.get(2).data().get("input").asText());
        assertEquals("", rows.get(2).data().get("output").asText());
        assertEquals("end", rows.get(3).data().get("output").asText());
        assertEquals(2, rows.get(0).line());
        assertEquals(3, rows.get(1).line());
        assertEquals(6, rows.get(2).line()); // the record after a 3-line record
        assertEquals(8, rows.get(3).line());
    }

    @Test
    void csvBomAndTrailingComma() {
        Path f = TestData.write(dir, "a.csv", "\uFEFFa,b\n1,\n");
        List<Row> rows = DatasetReader.read(f);
        assertEquals(1, rows.size());
        assertEquals("1", rows.get(0).data().get("a").asText());
        assertEquals("", rows.get(0).data().get("b").asText());
    }

    @Test
    void csvErrors() {
        Path wrong = TestData.write(dir, "w.csv", "a,b\n1,2\n1,2,3\n");
        LoroException e = assertThrows(LoroException.class, () -> DatasetReader.read(wrong));
        assertTrue(e.getMessage().startsWith(wrong + ":3: CSV record has 3 fields"), e.getMessage());
        BadRows bad = BadRows.skipAndCount();
        assertEquals(1, DatasetReader.read(wrong, bad).size());
        assertEquals(1, bad.count());

        Path open = TestData.write(dir, "o.csv", "a,b\n1,\"never closed\n2,3\n");
        e = assertThrows(LoroException.class, () -> DatasetReader.read(open));
        assertTrue(e.getMessage().startsWith(open + ":2: CSV quoted field is not closed"), e.getMessage());

        Path after = TestData.write(dir, "q.csv", "a,b\n\"x\"y,2\n");
        e = assertThrows(LoroException.class, () -> DatasetReader.read(after));
        assertTrue(e.getMessage().startsWith(after + ":2: CSV text after a closing quote"), e.getMessage());
    }

    @Test
    void notUtf8() throws Exception {
        for (String name : List.of("a.csv", "a.json", "a.jsonl")) {
            Path f = dir.resolve(name);
            java.nio.file.Files.write(f, new byte[] {'{', '"', 't', '"', ':', '"', (byte) 0xff, '"', '}', '\n'});
            LoroException e = assertThrows(LoroException.class, () -> DatasetReader.read(f));
            assertEquals(f + ": not UTF-8 text", e.getMessage());
        }
    }

    @Test
    void unknownExtensionAndMissingFile() {
        Path f = TestData.write(dir, "a.txt", "x");
        assertTrue(assertThrows(LoroException.class, () -> DatasetReader.read(f)).getMessage().contains(".parquet"));
        assertTrue(assertThrows(LoroException.class, () -> DatasetReader.read(dir.resolve("none.jsonl")))
                .getMessage().contains("not found"));
    }
}
