package ai.loro.datasets;

import ai.loro.core.LoroException;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;

/** Deterministic shuffling and train/validation splits. */
public final class Splits {
    private Splits() {}

    /** A train and a validation part. */
    public record Split<T>(List<T> train, List<T> validation) {}

    /**
     * A copy of items in an order that depends only on the seed and the number of items
     * (Fisher-Yates with {@link java.util.Random}, whose sequence is fixed by its specification).
     */
    public static <T> List<T> shuffle(List<T> items, long seed) {
        List<T> out = new ArrayList<>(items);
        Random r = new Random(seed);
        for (int i = out.size() - 1; i > 0; i--) {
            int j = r.nextInt(i + 1);
            T t = out.get(i);
            out.set(i, out.get(j));
            out.set(j, t);
        }
        return out;
    }

    /**
     * Number of validation items for val_set_size: 0 = none; a fraction in (0, 1) = that share of
     * the items, rounded, at least 1; a whole number >= 1 = that many.
     */
    public static int validationCount(int n, double valSetSize) {
        if (Double.isNaN(valSetSize) || valSetSize < 0) {
            throw new LoroException("val_set_size must be 0, a fraction in (0, 1) or a whole number of examples, got "
                    + valSetSize);
        }
        if (valSetSize == 0) {
            return 0;
        }
        int count;
        if (valSetSize < 1) {
            count = (int) Math.max(1, Math.round(n * valSetSize));
        } else {
            if (valSetSize != Math.rint(valSetSize)) {
                throw new LoroException("val_set_size " + valSetSize + " is above 1 but not a whole number; give a"
                        + " fraction in (0, 1) or a count");
            }
            count = (int) valSetSize;
        }
        if (count >= n) {
            throw new LoroException("val_set_size " + valSetSize + " leaves no training examples: " + n
                    + " examples, " + count + " for validation");
        }
        return count;
    }

    /** Shuffles with the seed, then takes the validation part from the front. */
    public static <T> Split<T> split(List<T> items, double valSetSize, long seed) {
        int v = validationCount(items.size(), valSetSize);
        List<T> s = shuffle(items, seed);
        return new Split<>(List.copyOf(s.subList(v, s.size())), List.copyOf(s.subList(0, v)));
    }
}
