package ai.loro.datasets;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.loro.core.LoroException;
import ai.loro.core.tokenizer.LoroTokenizer;
import ai.loro.core.tokenizer.TinyTokenizers;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Preference data for `loro data inspect`: pairs, prompt/chosen/rejected lengths, truncation per side, skipped rows. */
class PreferenceDataStatsTest {
    @TempDir Path dir;

    static final String ROWS = "{\"prompt\": \"ab\", \"chosen\": \"cde\", \"rejected\": \"f\"}\n"
            + "{\"prompt\": \"abcd\", \"chosen\": \"x\", \"rejected\": \"yyyyyy\"}\n"
            + "{\"prompt\": \"q\", \"chosen\": \"same\", \"rejected\": \"same\"}\n";

    @Test
    void characterLengthsAndSkippedRowsWithoutATokenizer() {
        Path f = TestData.write(dir, "p.jsonl", ROWS);
        PreferenceDataStats s = PreferenceDataStats.compute(f, PreferenceFormat.PREFERENCE, null, null, true);
        assertEquals(3, s.rows());
        assertEquals(1, s.skippedRows());
        assertEquals(2, s.pairs());
        assertArrayEquals(new int[] {2, 4}, s.prompt());
        assertArrayEquals(new int[] {3, 1}, s.chosen());
        assertArrayEquals(new int[] {1, 6}, s.rejected());
        assertEquals(f + ":3: fields 'chosen' and 'rejected' are identical; a preference pair needs two different"
                + " responses", s.skippedMessages().get(0));
        String report = s.report();
        // nearest rank: p50 of two values is the smaller, p90 the larger
        assertTrue(report.matches("(?s).*p50\\s*\\|\\s*2\\s*\\|\\s*1\\s*\\|\\s*1\\s*\\|.*"), report);
        assertTrue(report.matches("(?s).*p90\\s*\\|\\s*4\\s*\\|\\s*3\\s*\\|\\s*6\\s*\\|.*"), report);
        assertTrue(report.matches("(?s).*mean\\s*\\|\\s*3\\.0\\s*\\|\\s*2\\.0\\s*\\|\\s*3\\.5\\s*\\|.*"), report);
        assertTrue(report.contains("Skipped rows (first 1):\n  " + f + ":3: fields 'chosen'"), report);

        LoroException e = assertThrows(LoroException.class,
                () -> PreferenceDataStats.compute(f, PreferenceFormat.PREFERENCE, null, null, false));
        assertTrue(e.getMessage().startsWith(f + ":3: fields 'chosen' and 'rejected' are identical"), e.getMessage());
    }

    @Test
    void tokenLengthsAndTruncationPerSide() {
        Path f = TestData.write(dir, "p.jsonl", ROWS);
        Path tokDir = dir.resolve("tok");
        TinyTokenizers.writeByteLevel(tokDir, "chatml");
        try (LoroTokenizer tok = LoroTokenizer.load(tokDir)) {
            PreferenceDataStats all = PreferenceDataStats.compute(f, PreferenceFormat.PREFERENCE, tok,
                    EncodeOptions.of(4096).withStrictBoundaries(false), true);
            int[] p = all.prompt();
            int[] c = all.chosen();
            int[] r = all.rejected();
            // one byte per character: the differences are the texts' differences
            assertEquals(2, p[1] - p[0]);
            assertEquals(2, c[0] - c[1]);
            assertEquals(5, r[1] - r[0]);
            assertEquals(0, all.encoding().truncatedChosen() + all.encoding().truncatedRejected());

            // room for every sequence but the second pair's rejected one
            int len = Math.max(Math.max(p[0] + c[0], p[0] + r[0]), p[1] + c[1]);
            assertTrue(len < p[1] + r[1]);
            PreferenceDataStats cut = PreferenceDataStats.compute(f, PreferenceFormat.PREFERENCE, tok,
                    EncodeOptions.of(len).withStrictBoundaries(false), true);
            assertEquals(0, cut.encoding().truncatedChosen());
            assertEquals(1, cut.encoding().truncatedRejected());
            assertEquals(p[1] + r[1] - len, cut.encoding().truncatedTokens());
            assertArrayEquals(r, cut.rejected()); // lengths are untruncated
            String report = cut.report();
            assertTrue(report.matches("(?s).*rejected truncated\\s*\\|\\s*1 \\(50\\.00%\\).*"), report);
            assertTrue(report.matches("(?s).*chosen truncated\\s*\\|\\s*0 \\(0\\.00%\\).*"), report);
            assertTrue(report.contains("length (tokens)"), report);
            assertTrue(report.contains("Warning: at sequence_len " + len + ", 0 chosen and 1 rejected of 2 pairs"), report);
        }
    }
}
