package ai.loro.datasets;

import java.util.Arrays;

final class TestArrays {
    private TestArrays() {}

    static long[] concat(long[] a, long[] b) {
        long[] out = Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, out, a.length, b.length);
        return out;
    }
}
