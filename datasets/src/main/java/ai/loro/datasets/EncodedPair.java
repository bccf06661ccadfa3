package ai.loro.datasets;

import ai.loro.core.LoroException;
import java.util.Arrays;

/**
 * A tokenized preference pair. Both sequences start with the same {@code promptLength} prompt tokens
 * (tokenized once) followed by their response's tokens; the masks are true on trained response tokens
 * (content and end of turn / EOS), never on the prompt.
 */
public record EncodedPair(long[] chosenIds, boolean[] chosenMask, long[] rejectedIds, boolean[] rejectedMask,
        int promptLength, Double margin, String source) {
    public EncodedPair {
        if (chosenIds == null || chosenMask == null || rejectedIds == null || rejectedMask == null
                || chosenIds.length != chosenMask.length || rejectedIds.length != rejectedMask.length) {
            throw new LoroException(source + ": pair ids and loss masks must have the same lengths");
        }
        if (promptLength < 1 || promptLength >= chosenIds.length || promptLength >= rejectedIds.length
                || !Arrays.equals(chosenIds, 0, promptLength, rejectedIds, 0, promptLength)) {
            throw new LoroException(source + ": chosen and rejected must share " + promptLength
                    + " prompt tokens and each have a response token");
        }
    }

    /** The chosen sequence as an example. */
    public Example chosen() {
        return new Example(chosenIds, chosenMask, source);
    }

    /** The rejected sequence as an example. */
    public Example rejected() {
        return new Example(rejectedIds, rejectedMask, source);
    }

    /** The shared prompt tokens. */
    public long[] promptIds() {
        return Arrays.copyOf(chosenIds, promptLength);
    }

    /** The chosen response's tokens (after the prompt). */
    public long[] chosenResponseIds() {
        return Arrays.copyOfRange(chosenIds, promptLength, chosenIds.length);
    }

    /** The rejected response's tokens (after the prompt). */
    public long[] rejectedResponseIds() {
        return Arrays.copyOfRange(rejectedIds, promptLength, rejectedIds.length);
    }
}
