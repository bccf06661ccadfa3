package ai.loro.core.generate;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/** The partial-selection sampler draws exactly what a full descending sort of the vocabulary draws. */
class SamplerTest {
    /** The reference: sort every token by logit (Arrays.sort of boxed indices), then filter and draw. */
    private static int fullSortSample(float[] logits, SamplingParams p, SplittableRandom rng) {
        Integer[] boxed = new Integer[logits.length];
        for (int i = 0; i < boxed.length; i++) {
            boxed[i] = i;
        }
        // descending logit, lower index first on ties (a stable sort of ascending indices)
        Arrays.sort(boxed, (a, b) -> Float.compare(logits[b], logits[a]));
        int v = logits.length;
        int keep = p.topK() > 0 ? Math.min(p.topK(), v) : v;
        double max = logits[boxed[0]] / p.temperature();
        double[] probs = new double[keep];
        double total = 0;
        for (int i = 0; i < keep; i++) {
            probs[i] = Math.exp(logits[boxed[i]] / p.temperature() - max);
            total += probs[i];
        }
        if (p.topP() < 1.0) {
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
                return boxed[i];
            }
        }
        return boxed[keep - 1];
    }

    private static SamplingParams params(double temperature, int topK, double topP) {
        return new SamplingParams(1, temperature, topK, topP, 0, List.of(), true);
    }

    @Test
    void partialSelectionDrawsTheFullSortsTokensOnA128kVocabulary() {
        SplittableRandom data = new SplittableRandom(7);
        float[] logits = new float[128_256];
        SamplingParams[] all = {params(1.0, 0, 0.9), params(0.7, 0, 0.95), params(1.3, 0, 0.5), params(1.0, 50, 1.0),
                params(0.8, 40, 0.9), params(1.0, 0, 1.0), params(2.0, 0, 0.99)};
        int draws = 0;
        for (int row = 0; row < 3; row++) {
            double spread = 1 + 5 * row; // flat to peaked distributions
            for (int i = 0; i < logits.length; i++) {
                logits[i] = (float) (data.nextGaussian() * spread);
            }
            logits[row * 1000] = logits[row * 1000 + 1]; // a tie
            for (SamplingParams p : all) {
                for (long seed = 0; seed < 2; seed++) {
                    assertEquals(fullSortSample(logits, p, new SplittableRandom(seed)),
                            Sampler.sample(logits, p, new SplittableRandom(seed)), "row " + row + " " + p + " seed " + seed);
                    draws++;
                }
            }
        }
        assertEquals(3 * all.length * 2, draws);
    }

    @Test
    void smallVocabulariesTiesAndMaskedTokensMatchTheFullSort() {
        SplittableRandom data = new SplittableRandom(11);
        for (int trial = 0; trial < 2000; trial++) {
            int v = 1 + data.nextInt(600);
            float[] logits = new float[v];
            for (int i = 0; i < v; i++) {
                int kind = data.nextInt(10);
                logits[i] = kind == 0 ? Float.NEGATIVE_INFINITY : kind == 1 ? 0.5f : (float) data.nextGaussian() * 4;
            }
            logits[data.nextInt(v)] = 3f; // at least one finite logit
            SamplingParams p = params(0.2 + data.nextDouble() * 2, data.nextInt(3) == 0 ? 1 + data.nextInt(v + 5) : 0,
                    data.nextInt(4) == 0 ? 1.0 : 0.05 + data.nextDouble() * 0.95);
            long seed = data.nextLong();
            assertEquals(fullSortSample(logits, p, new SplittableRandom(seed)), Sampler.sample(logits, p, new SplittableRandom(seed)),
                    "trial " + trial + " v " + v + " " + p);
        }
    }

    @Test
    void topOrderIsThePrefixOfTheFullDescendingOrder() {
        float[] logits = {0.1f, -1f, 0.1f, 2f, Float.NEGATIVE_INFINITY, 2f, -0f, 0f};
        int[] full = Sampler.descendingOrder(logits);
        assertArrayEquals(new int[] {3, 5, 0, 2, 7, 6, 1, 4}, full); // +0 sorts before -0, as the packed key orders them
        for (int c = 1; c <= logits.length; c++) {
            assertArrayEquals(Arrays.copyOf(full, c), Sampler.topOrder(Sampler.packedKeys(logits), c), "count " + c);
        }
    }
}
