package ai.loro.datasets;

import ai.loro.core.LoroException;

/**
 * One tokenized training example. {@code lossMask[t]} says whether token t is a training target
 * (predicted from the tokens before it); position 0 is never a target. {@link #labels()} gives the
 * same as Hugging Face labels: the token id where trained, -100 elsewhere (unshifted).
 */
public record Example(long[] inputIds, boolean[] lossMask, String source) {
    public static final long IGNORE_INDEX = -100;

    public Example {
        if (inputIds == null || lossMask == null || inputIds.length != lossMask.length) {
            throw new LoroException(source + ": example ids and loss mask must have the same length");
        }
    }

    public int length() {
        return inputIds.length;
    }

    /** Number of tokens with loss. */
    public int trainableTokens() {
        int n = 0;
        for (boolean b : lossMask) {
            if (b) {
                n++;
            }
        }
        return n;
    }

    /** Token ids where trained, -100 elsewhere. */
    public long[] labels() {
        long[] l = new long[inputIds.length];
        for (int i = 0; i < l.length; i++) {
            l[i] = lossMask[i] ? inputIds[i] : IGNORE_INDEX;
        }
        return l;
    }

    /** The trained token ids, in order. */
    public long[] trainedIds() {
        long[] out = new long[trainableTokens()];
        int k = 0;
        for (int i = 0; i < inputIds.length; i++) {
            if (lossMask[i]) {
                out[k++] = inputIds[i];
            }
        }
        return out;
    }
}
