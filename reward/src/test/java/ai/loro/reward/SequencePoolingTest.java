package ai.loro.reward;

import static org.junit.jupiter.api.Assertions.*;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

class SequencePoolingTest {
    static NDManager m;

    @BeforeAll
    static void up() {
        m = NDManager.newBaseManager();
    }

    @AfterAll
    static void down() {
        m.close();
    }

    static NDArray ids(long[][] rows) {
        int t = rows[0].length;
        long[] flat = new long[rows.length * t];
        for (int i = 0; i < rows.length; i++) {
            System.arraycopy(rows[i], 0, flat, i * t, t);
        }
        return m.create(flat, new Shape(rows.length, t));
    }

    @Test
    void rightAndLeftPaddingAndAllPad() {
        long[][] rows = {{5, 6, 7, 0, 0}, {0, 0, 5, 6, 7}, {9, 9, 9, 9, 9}, {0, 0, 0, 0, 0}};
        long[] expected = {2, 4, 4, 0}; // right pad → 2, left pad → 4, no pad → T−1, all pad → 0
        assertArrayEquals(expected, SequencePooling.lastNonPadIndex(rows, 0));
        assertArrayEquals(expected, SequencePooling.lastNonPadIndex(ids(rows), 0).toLongArray());
    }

    @Test
    void padEqualsEosInsideTheText() {
        // pad = eos = 2. Row 0: right padded "5 6 EOS" → the trailing EOS counts as padding: index 1.
        // Row 1: "5 EOS 6" + padding → the inner EOS is skipped, 6 is rightmost: index 2.
        // Row 2: left padded "5 EOS 6" → 4.
        long[][] rows = {{5, 6, 2, 2, 2}, {5, 2, 6, 2, 2}, {2, 2, 5, 2, 6}};
        assertArrayEquals(new long[] {1, 2, 4}, SequencePooling.lastNonPadIndex(rows, 2));
        assertArrayEquals(new long[] {1, 2, 4}, SequencePooling.lastNonPadIndex(ids(rows), 2).toLongArray());
        // with the attention mask, the EOS that ends row 0 (and row 1's real EOS at 3) is pooled
        NDArray mask = m.create(new long[] {1, 1, 1, 0, 0, 1, 1, 1, 1, 0, 0, 0, 1, 1, 1}, new Shape(3, 5));
        assertArrayEquals(new long[] {2, 3, 4}, SequencePooling.lastIndexFromMask(mask).toLongArray());
    }

    @Test
    void selectPicksOneRowPosition() {
        NDArray scores = m.create(new double[] {1, 2, 3, 4, 5, 6}, new Shape(2, 3));
        NDArray idx = m.create(new long[] {2, 0});
        assertArrayEquals(new double[] {3, 4}, SequencePooling.select(scores, idx).toDoubleArray());
        NDArray hidden = m.create(new float[] {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12}, new Shape(2, 3, 2));
        NDArray h = SequencePooling.select(hidden, idx); // row 0 pos 2 = [5, 6]; row 1 pos 0 = [7, 8]
        assertEquals(new Shape(2, 2), h.getShape());
        assertArrayEquals(new float[] {5, 6, 7, 8}, h.toFloatArray());
    }
}
