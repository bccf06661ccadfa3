package ai.loro.reward;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.loro.core.loss.LossOps;

/**
 * Which position's hidden state or score stands for the whole sequence in a reward or
 * classification model.
 *
 * <p>{@link #lastNonPadIndex} is transformers' current rule for LlamaForSequenceClassification:
 * {@code argmax(arange(T) · (ids != pad))}, the rightmost non-pad token, correct under left and right
 * padding. Trade-off when {@code pad_token_id == eos_token_id} (common for Llama): a trailing EOS
 * counts as padding, so pooling lands on the token before it; an EOS inside the text is skipped
 * only if it is the last token. Training and inference agree as long as both use this rule.
 * {@link #lastIndexFromMask} is preferred whenever an attention mask is at hand: it pools at the
 * true last token (EOS included) whatever the pad id. A row with no valid token gives index 0.
 */
public final class SequencePooling {
    private SequencePooling() {}

    /** Rightmost index j with {@code ids[i][j] != pad} per row, 0 for an all-pad row. */
    public static long[] lastNonPadIndex(long[][] inputIds, long padTokenId) {
        long[] out = new long[inputIds.length];
        for (int i = 0; i < inputIds.length; i++) {
            for (int j = inputIds[i].length - 1; j >= 0; j--) {
                if (inputIds[i][j] != padTokenId) {
                    out[i] = j;
                    break;
                }
            }
        }
        return out;
    }

    /** {@code argmax(arange(T) · (ids != pad))}: (B, T) → (B) int64. */
    public static NDArray lastNonPadIndex(NDArray inputIds, long padTokenId) {
        return LossOps.lastIndexFromMask(inputIds.neq(padTokenId));
    }

    /** {@code argmax(arange(T) · mask)}: the last attended position per row, (B, T) → (B) int64. */
    public static NDArray lastIndexFromMask(NDArray attentionMask) {
        return LossOps.lastIndexFromMask(attentionMask);
    }

    /**
     * Row i of {@code perToken} at position {@code index[i]}: (B, T, ...) and (B) → (B, ...).
     * Differentiable (a one-hot weighted sum over T); perToken must be finite.
     */
    public static NDArray select(NDArray perToken, NDArray index) {
        Shape s = perToken.getShape();
        long[] w = new long[s.dimension()];
        w[0] = s.get(0);
        w[1] = s.get(1);
        for (int d = 2; d < w.length; d++) {
            w[d] = 1;
        }
        NDArray onehot = index.toType(DataType.INT64, false).oneHot((int) s.get(1), perToken.getDataType()); // (B, T)
        onehot.attach(perToken.getManager());
        return perToken.mul(onehot.reshape(new Shape(w))).sum(new int[] {1});
    }
}
