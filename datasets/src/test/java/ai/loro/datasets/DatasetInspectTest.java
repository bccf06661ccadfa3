package ai.loro.datasets;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.loro.core.tokenizer.LoroTokenizer;
import ai.loro.core.tokenizer.TinyTokenizers;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class DatasetInspectTest {
    @TempDir Path dir;

    private Path alpacaFile(int n) {
        StringBuilder sb = new StringBuilder();
        for (int i = 1; i <= n; i++) {
            sb.append("{\"instruction\":\"").append("x".repeat(i)).append("\",\"output\":\"").append("y".repeat(i))
                    .append("\"}\n");
        }
        sb.append("{\"instruction\":\"no output\"}\n");
        return TestData.write(dir, "a.jsonl", sb.toString());
    }

    @Test
    void percentilesNearestRank() {
        int[] s = new int[100];
        for (int i = 0; i < 100; i++) {
            s[i] = i + 1;
        }
        assertEquals(50, DatasetStats.percentile(s, 0.5));
        assertEquals(90, DatasetStats.percentile(s, 0.9));
        assertEquals(99, DatasetStats.percentile(s, 0.99));
        assertEquals(7, DatasetStats.percentile(new int[] {7}, 0.99));
        assertEquals(0, DatasetStats.percentile(new int[0], 0.5));
    }

    @Test
    void tokenStatsWithTruncation() {
        Path f = alpacaFile(100);
        Path tokDir = dir.resolve("tok");
        TinyTokenizers.writeByteLevel(tokDir, "chatml");
        try (LoroTokenizer tok = LoroTokenizer.load(tokDir)) {
            ExampleEncoder probe = new ExampleEncoder(tok, EncodeOptions.of(100000));
            List<Sample> samples = Datasets.load(f, DatasetFormat.ALPACA, BadRows.skipAndCount());
            int base = probe.tokenize(samples.get(0)).length() - 2; // length of example i is base + 2i
            int seqLen = base + 2 * 80; // examples 81..100 are longer
            DatasetStats st = DatasetStats.compute(f, DatasetFormat.ALPACA, tok, EncodeOptions.of(seqLen), true);
            assertEquals(101, st.rows());
            assertEquals(1, st.skippedRows());
            assertTrue(st.skippedMessages().get(0).contains(":101: field 'output' is missing"));
            assertEquals(100, st.examples());
            assertEquals(DatasetStats.TOKENS, st.unit());
            assertEquals(base + 2, st.minLength());
            assertEquals(base + 100, st.p50());
            assertEquals(base + 180, st.p90());
            assertEquals(base + 198, st.p99());
            assertEquals(base + 200, st.maxLength());
            assertEquals(20, st.truncatedExamples());
            assertEquals(0.2, st.truncationRate(), 1e-12);
            long dropped = 0;
            for (int i = 81; i <= 100; i++) {
                dropped += 2L * (i - 80);
            }
            assertEquals(dropped, st.truncatedTokens());
            String report = st.report();
            assertTrue(report.contains("truncated examples"), report);
            assertTrue(report.contains("20 (20.00%)"), report);
            assertTrue(report.contains("Length histogram (tokens)"), report);
            assertTrue(report.contains("Warning: 20 of 100 examples (20.00%) are longer than sequence_len " + seqLen),
                    report);
            assertTrue(report.contains("field 'output' is missing"), report);
            assertEquals(2, st.table().columnCount());
        }
    }

    @Test
    void characterStatsWithoutTokenizer() {
        Path f = TestData.write(dir, "t.csv", "text\nabc\n\"de, f\"\nx\n");
        DatasetStats st = DatasetStats.compute(f, DatasetFormat.COMPLETION, null, null, false);
        assertEquals(3, st.examples());
        assertEquals(DatasetStats.CHARACTERS, st.unit());
        assertEquals(1, st.minLength());
        assertEquals(3, st.p50());
        assertEquals(5, st.maxLength());
        String report = st.report();
        assertTrue(report.contains("Length histogram (characters)"), report);
        assertTrue(!report.contains("sequence_len"), report);
        String hist = st.histogram(5);
        System.out.println(report);
        // bins of width 1 over 0..5: lengths 1, 3, 5 -> three full bars of 40
        assertEquals(6, hist.lines().count(), hist);
        assertEquals(120, hist.chars().filter(c -> c == '#').count(), hist);
        assertTrue(hist.startsWith("0-0 |"), hist);
    }
}
