package ai.loro.spark.kernel;

/**
 * The sampler seed of one sample: a function of (job seed, input row, sample index) only, so a row's
 * samples are the same whatever partition or batch it lands in and however often a task is retried.
 */
public final class Seeds {
    private Seeds() {}

    public static long of(long seed, long row, int sample) {
        return scramble(scramble(scramble(seed) ^ row) ^ sample);
    }

    /** A bijective 64-bit scrambler (xor-shift / odd-multiply rounds, docs/spark.md): nearby inputs, unrelated outputs. */
    static long scramble(long z) {
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        return z ^ (z >>> 31);
    }
}
