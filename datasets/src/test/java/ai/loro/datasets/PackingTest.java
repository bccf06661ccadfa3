package ai.loro.datasets;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.loro.core.LoroException;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.stream.Collectors;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;

class PackingTest {
    /** An example of n tokens with ids base+0..n-1, trained from the middle on. */
    static Example ex(int base, int n) {
        long[] ids = new long[n];
        boolean[] mask = new boolean[n];
        for (int i = 0; i < n; i++) {
            ids[i] = base + i;
            mask[i] = i >= n / 2;
        }
        return new Example(ids, mask, "e" + base);
    }

    @Test
    void packedRowsNeverExceedSequenceLenAndKeepEveryToken() {
        Random r = new Random(7);
        List<Example> examples = new ArrayList<>();
        for (int k = 0; k < 200; k++) {
            examples.add(ex(1000 * (k + 1), 1 + r.nextInt(64)));
        }
        int seq = 64;
        List<PackedRow> rows = Packer.pack(examples, seq, -1);
        int total = examples.stream().mapToInt(Example::length).sum();
        assertEquals(total, rows.stream().mapToInt(PackedRow::usedTokens).sum());
        assertTrue(rows.size() < examples.size());
        int seen = 0;
        for (PackedRow row : rows) {
            assertEquals(seq, row.length());
            assertTrue(row.usedTokens() <= seq);
            // segments 1..n then padding 0; positions restart at 0 per segment; masks are each example's own
            int i = 0;
            for (int s = 1; s <= row.segments(); s++) {
                String src = row.sources().get(s - 1);
                Example e = examples.stream().filter(x -> x.source().equals(src)).findFirst().get();
                for (int t = 0; t < e.length(); t++, i++) {
                    assertEquals(s, row.segmentIds()[i]);
                    assertEquals(t, row.positionIds()[i]);
                    assertEquals(e.inputIds()[t], row.inputIds()[i]);
                    assertEquals(e.lossMask()[t] && t > 0, row.lossMask()[i]);
                }
                seen++;
            }
            for (; i < seq; i++) {
                assertEquals(0, row.segmentIds()[i]);
                assertEquals(0, row.positionIds()[i]);
                assertEquals(-1, row.inputIds()[i]);
                assertFalse(row.lossMask()[i]);
            }
        }
        assertEquals(examples.size(), seen);
        // deterministic
        List<PackedRow> again = Packer.pack(examples, seq, -1);
        for (int k = 0; k < rows.size(); k++) {
            assertArrayEquals(rows.get(k).inputIds(), again.get(k).inputIds());
        }
    }

    @Test
    void firstFitFillsEarlierRows() {
        List<PackedRow> rows = Packer.pack(List.of(ex(100, 6), ex(200, 6), ex(300, 3), ex(400, 1)), 10, 0);
        assertEquals(2, rows.size());
        assertEquals(List.of("e100", "e300", "e400"), rows.get(0).sources());
        assertEquals(List.of("e200"), rows.get(1).sources());
        assertArrayEquals(new long[] {1, 1, 1, 1, 1, 1, 2, 2, 2, 3}, rows.get(0).segmentIds());
        assertArrayEquals(new long[] {0, 1, 2, 3, 4, 5, 0, 1, 2, 0}, rows.get(0).positionIds());
    }

    @Test
    void tooLongForPackingIsAnError() {
        LoroException e = assertThrows(LoroException.class, () -> Packer.pack(List.of(ex(1, 11)), 10, 0));
        assertTrue(e.getMessage().contains("longer than sequence_len 10"));
    }

    @Test
    void collatePackedBatch() {
        List<PackedRow> rows = Packer.pack(List.of(ex(100, 6), ex(200, 6), ex(300, 3)), 10, 0);
        Batch b = Collator.collatePacked(rows);
        assertEquals(2, b.size());
        assertEquals(10, b.length());
        assertArrayEquals(new long[] {1, 1, 1, 1, 1, 1, 1, 1, 1, 0}, b.attentionMask()[0]);
        assertArrayEquals(new long[] {-100, -100, -100, 103, 104, 105, -100, 301, 302, -100}, b.labels()[0]);
        assertEquals(b.trainableTokens(), rows.stream().mapToLong(r -> countTrue(r.lossMask())).sum());
    }

    @Test
    void collateRightPads() {
        Batch b = Collator.collate(List.of(ex(10, 3), ex(20, 5)), 99, 4);
        assertEquals(8, b.length());
        assertArrayEquals(new long[] {10, 11, 12, 99, 99, 99, 99, 99}, b.inputIds()[0]);
        assertArrayEquals(new long[] {1, 1, 1, 0, 0, 0, 0, 0}, b.attentionMask()[0]);
        assertArrayEquals(new long[] {-100, 11, 12, -100, -100, -100, -100, -100}, b.labels()[0]);
        assertArrayEquals(new long[] {-100, -100, 22, 23, 24, -100, -100, -100}, b.labels()[1]);
        assertArrayEquals(new long[] {1, 1, 1, 1, 1, 0, 0, 0}, b.segmentIds()[1]);
        assertArrayEquals(new long[] {0, 1, 2, 3, 4, 0, 0, 0}, b.positionIds()[1]);
    }

    private static long countTrue(boolean[] a) {
        long n = 0;
        for (boolean x : a) {
            if (x) {
                n++;
            }
        }
        return n;
    }

    @Test
    void shuffleAndSplitAreDeterministic() {
        List<Integer> items = IntStream.range(0, 100).boxed().collect(Collectors.toList());
        assertEquals(Splits.shuffle(items, 42), Splits.shuffle(items, 42));
        assertNotEquals(Splits.shuffle(items, 42), Splits.shuffle(items, 43));
        assertNotEquals(items, Splits.shuffle(items, 42));
        assertEquals(items, Splits.shuffle(items, 42).stream().sorted().collect(Collectors.toList()));
        // fixed by java.util.Random's specified algorithm: the same on every JVM
        assertEquals(List.of(2, 3, 1, 4, 0), Splits.shuffle(List.of(0, 1, 2, 3, 4), 1));

        Splits.Split<Integer> s = Splits.split(items, 0.1, 42);
        assertEquals(10, s.validation().size());
        assertEquals(90, s.train().size());
        assertEquals(s.validation(), Splits.split(items, 0.1, 42).validation());
        assertTrue(s.train().stream().noneMatch(s.validation()::contains));
        assertEquals(25, Splits.split(items, 25, 1).validation().size());
        assertEquals(0, Splits.split(items, 0, 1).validation().size());
        assertEquals(1, Splits.split(items, 0.001, 1).validation().size());
        assertThrows(LoroException.class, () -> Splits.split(items, 100, 1));
        assertThrows(LoroException.class, () -> Splits.split(items, 2.5, 1));
        assertThrows(LoroException.class, () -> Splits.split(items, -0.1, 1));
    }
}
