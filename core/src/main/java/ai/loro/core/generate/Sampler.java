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
        long[] packed = new long[logits.length];
        for (int i = 0; i < logits.length; i++) {
            int bits = Float.floatToIntBits(logits[i]);
            // 0 .. 2^32-1, increasing as the float decreases (positives first, then negatives)
            long key = bits >= 0 ? 0x7fffffffL - bits : 0x80000000L + (bits & 0x7fffffff);
            packed[i] = ((key - 0x80000000L) << 32) | i;
        }
        Arrays.sort(packed);
        int[] order = new int[logits.length];
        for (int i = 0; i < order.length; i++) {
            order[i] = (int) packed[i];
        }
        return order;
    }

    /**
     * Samples with temperature, top-k and top-p (nucleus) filtering.
     *
     * @return the token index
     */
    public static int sample(float[] logits, SamplingParams p, SplittableRandom rng) {
        if (p.greedy()) {
            return argmax(logits);
        }
        int v = logits.length;
        int[] order = descendingOrder(logits);
        int keep = p.topK() > 0 ? Math.min(p.topK(), v) : v;
        double max = logits[order[0]] / p.temperature();
        double[] probs = new double[keep];
        double total = 0;
        for (int i = 0; i < keep; i++) {
            probs[i] = Math.exp(logits[order[i]] / p.temperature() - max);
            total += probs[i];
        }
        if (p.topP() < 1.0) {
            // keep the smallest prefix whose probability mass reaches top_p (at least one token)
            double cumulative = 0;
            int n = 0;
            while (n < keep) {
                cumulative += probs[n] / total;
                n++;
                if (cumulative >= p.topP()) {
                    break;
                }
            }
            keep = n;
            total = 0;
            for (int i = 0; i < keep; i++) {
                total += probs[i];
            }
        }
        double u = rng.nextDouble() * total;
        double acc = 0;
        for (int i = 0; i < keep; i++) {
            acc += probs[i];
            if (u < acc) {
                return order[i];
            }
        }
        return order[keep - 1];
    }
}
