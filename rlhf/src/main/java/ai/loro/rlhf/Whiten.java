package ai.loro.rlhf;

import ai.djl.ndarray.NDArray;
import ai.loro.core.LoroException;
import ai.loro.core.loss.LossOps;

/**
 * TRL's masked_whiten: {@code (x − mean) / sqrt(var + 1e-8)} with the masked mean and the masked
 * unbiased variance ({@code Σ m(x − mean)² / Σ m · n/(n − 1)}, n = Σ m) over all elements; with
 * {@code shiftMean = false} the mean is added back (used for rewards). Unlike TRL, masked
 * positions come out 0 (TRL's callers zero them right after).
 */
public final class Whiten {
    private Whiten() {}

    public static NDArray whiten(NDArray x, NDArray mask, boolean shiftMean) { // (B, T), (B, T) → (B, T)
        NDArray m = LossOps.maskAs(mask, x);
        double n = LossOps.scalar(m.sum());
        if (n < 2) {
            throw new LoroException("whitening needs at least 2 unmasked values, got " + (long) n);
        }
        NDArray mean = LossOps.maskedMean(x, mask); // ()
        NDArray centered = x.sub(mean);
        NDArray var = LossOps.maskedMean(centered.square(), mask).mul(n / (n - 1)); // ()
        NDArray w = centered.div(var.add(1e-8).sqrt());
        if (!shiftMean) {
            w = w.add(mean);
        }
        return LossOps.masked(w, mask);
    }
}
