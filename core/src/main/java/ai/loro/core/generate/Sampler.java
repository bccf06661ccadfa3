package ai.loro.core.generate;

import java.util.Arrays;
import java.util.SplittableRandom;

/**
 * Picks a token from one row of logits, in Java on the host: deterministic for a seed,
 * independent of libtorch's random state (which DJL cannot save or restore).
 */
public final class Sampler {
    private Sampler() {}

    /** Index of the largest logit (the first one on ties, as torch.argmax). */
    public static int argmax(float[] logits) {
        int best = 0;
        for (int i = 1; i < logits.length; i++) {
            if (logits[i] > logits[best]) {
                best = i;
            }
        }
        return best;
    }

    /**
     * Token indices by logit, descending; ties keep the lower index first. Sorts packed longs
     * (order-preserving float key, index) so a 128k vocabulary sorts in milliseconds.
     */
    static int[] descendingOrder(float[] logits) {
        return topOrder(packedKeys(logits), logits.length);
    }

    /** One long per token, ascending as the logit descends (ties: lower index first); unique per index. */
    static long[] packedKeys(float[] logits) {
        long[] packed = new long[logits.length];
        for (int i = 0; i < logits.length; i++) {
            int bits = Float.floatToIntBits(logits[i]);
            // 0 .. 2^32-1, increasing as the float decreases (positives first, then negatives)
            long key = bits >= 0 ? 0x7fffffffL - bits : 0x80000000L + (bits & 0x7fffffff);
            packed[i] = ((key - 0x80000000L) << 32) | i;
        }
        return packed;
    }

    /**
     * The first {@code count} entries of {@link #descendingOrder}: a partial selection (quickselect)
     * puts the {@code count} smallest keys first, then only those are sorted. The keys are unique, so
     * the result is exactly the full sort's prefix.
     */
    static int[] topOrder(long[] packed, int count) {
        long[] keys = packed.clone();
        if (count < keys.length) {
            select(keys, count);
        }
        Arrays.sort(keys, 0, count);
        int[] order = new int[count];
        for (int i = 0; i < count; i++) {
            order[i] = (int) keys[i];
        }
        return order;
    }

    /** Reorders {@code a} so that its {@code count} smallest values come first (in any order). */
    private static void select(long[] a, int count) {
        int lo = 0;
        int hi = a.length - 1;
        while (lo < hi) {
            int mid = (lo + hi) >>> 1;
            long pivot = median(a[lo], a[mid], a[hi]);
            int i = lo;
            int j = hi;
            while (i <= j) { // Hoare partition: [lo, j] <= pivot <= [i, hi]
                while (a[i] < pivot) {
                    i++;
                }
                while (a[j] > pivot) {
                    j--;
                }
                if (i <= j) {
                    long t = a[i];
                    a[i] = a[j];
                    a[j] = t;
                    i++;
                    j--;
                }
            }
            if (count - 1 <= j) {
                hi = j;
            } else if (count - 1 >= i) {
                lo = i;
            } else {
                return;
            }
        }
    }

    private static long median(long a, long b, long c) {
        return Math.max(Math.min(a, b), Math.min(Math.max(a, b), c));
    }

    /**
     * Samples with temperature, top-k and top-p (nucleus) filtering. Only the tokens that can be
     * drawn are sorted (docs/decode-profile.md, "Sampling"): top-k sorts its k tokens; top-p alone
     * sorts a growing candidate prefix until it holds the nucleus. The probabilities, the nucleus
     * and the draw are those of a full sort; the one difference is that top-p's normaliser (the
     * sum over the whole vocabulary) is summed in index order, not in descending order.
     *
     * @return the token index
     */
    public static int sample(float[] logits, SamplingParams p, SplittableRandom rng) {
        if (p.greedy()) {
            return argmax(logits);
        }
        int v = logits.length;
        double temp = p.temperature();
        int keep = p.topK() > 0 ? Math.min(p.topK(), v) : v;
        if (keep == v && p.topP() >= 1.0) {
            return draw(logits, descendingOrder(logits), v, temp, rng); // the whole distribution
        }
        long[] packed = packedKeys(logits);
        if (keep < v) { // top-k (then top-p inside it): the normaliser is over the k tokens, in order
            int[] order = topOrder(packed, keep);
            int n = p.topP() < 1.0 ? nucleus(logits, order, keep, mass(logits, order, keep, temp), p.topP(), temp) : keep;
            return draw(logits, order, n > 0 ? n : keep, temp, rng);
        }
        double max = logits[argmax(logits)] / temp;
        double total = 0;
        for (float l : logits) {
            total += Math.exp(l / temp - max);
        }
        // the nucleus holds at least topP · total tokens (none is likelier than the top one, whose weight is 1)
        long least = (long) Math.ceil(2.0 * p.topP() * total);
        int count = least > v / 4 ? v : (int) Math.min(v, Math.max(256L, least));
        while (true) {
            int[] order = topOrder(packed, count);
            int n = nucleus(logits, order, count, total, p.topP(), temp);
            if (n > 0 || count == v) {
                return draw(logits, order, n > 0 ? n : v, temp, rng);
            }
            // a flat distribution: guess the nucleus size from the mass found so far; past a quarter of
            // the vocabulary one full sort is cheaper than more selections (the guess never changes the draw)
            double found = mass(logits, order, count, temp) / total;
            long guess = (long) Math.ceil(2.0 * count * p.topP() / Math.max(found, 1e-9));
            count = guess > v / 4 ? v : (int) Math.max(guess, 2L * count);
        }
    }

    /** Sum of {@code exp(logit / T - max / T)} over the first {@code n} tokens of {@code order}, in that order. */
    private static double mass(float[] logits, int[] order, int n, double temp) {
        double max = logits[order[0]] / temp;
        double total = 0;
        for (int i = 0; i < n; i++) {
            total += Math.exp(logits[order[i]] / temp - max);
        }
        return total;
    }

    /**
     * The smallest prefix of {@code order} whose probability mass reaches {@code topP} (at least one
     * token), or 0 when the first {@code available} tokens do not reach it.
     */
    private static int nucleus(float[] logits, int[] order, int available, double total, double topP, double temp) {
        double max = logits[order[0]] / temp;
        double cumulative = 0;
        for (int n = 0; n < available; n++) {
            cumulative += Math.exp(logits[order[n]] / temp - max) / total;
            if (cumulative >= topP) {
                return n + 1;
            }
        }
        return 0;
    }

    /** Draws one of the first {@code n} tokens of {@code order} in proportion to {@code exp(logit / T)}. */
    private static int draw(float[] logits, int[] order, int n, double temp, SplittableRandom rng) {
        double max = logits[order[0]] / temp;
        double[] probs = new double[n];
        double total = 0;
        for (int i = 0; i < n; i++) {
            probs[i] = Math.exp(logits[order[i]] / temp - max);
            total += probs[i];
        }
        double u = rng.nextDouble() * total;
        double acc = 0;
        for (int i = 0; i < n; i++) {
            acc += probs[i];
            if (u < acc) {
                return order[i];
            }
        }
        return order[n - 1];
    }
}
