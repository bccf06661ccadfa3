package ai.loro.sft;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.loro.core.model.LlamaModel;
import ai.loro.datasets.Batch;

/** Next-token cross-entropy summed over loss-masked tokens; padding and prompts carry no loss. */
public final class SftLoss {
    private SftLoss() {}

    /** Summed negative log-likelihood of the batch's loss tokens (a scalar) and their count. */
    public static NDArray[] nllSum(LlamaModel model, Batch b, NDManager m) {
        int rows = b.size();
        int t = b.length();
        NDArray ids = m.create(flatten(b.inputIds(), t), new Shape(rows, t));
        NDArray hidden = b.segmentIds() != null
                ? model.hiddenStatesPacked(ids, m.create(flatten(b.segmentIds(), t), new Shape(rows, t)),
                        m.create(flatten(b.positionIds(), t), new Shape(rows, t)))
                : model.hiddenStates(ids, m.create(flatten(b.attentionMask(), t), new Shape(rows, t)), null);
        NDArray logp = LlamaModel.nextTokenLogProbs(model.logits(hidden), ids); // (B, T-1)
        // lossMask[t] marks token t as trained, i.e. predicted at position t-1
        float[] mask = new float[rows * (t - 1)];
        long tokens = 0;
        for (int r = 0; r < rows; r++) {
            for (int i = 1; i < t; i++) {
                if (b.lossMask()[r][i]) {
                    mask[r * (t - 1) + i - 1] = 1f;
                    tokens++;
                }
            }
        }
        NDArray maskArr = m.create(mask, new Shape(rows, t - 1)).toType(logp.getDataType(), false);
        NDArray nll = logp.mul(maskArr).sum().neg();
        return new NDArray[] {nll, m.create(tokens)};
    }

    static long[] flatten(long[][] rows, int t) {
        long[] out = new long[rows.length * t];
        for (int r = 0; r < rows.length; r++) {
            System.arraycopy(rows[r], 0, out, r * t, rows[r].length);
        }
        return out;
    }

    public static long count(NDArray tokens) {
        return tokens.getDataType() == DataType.INT64 ? tokens.getLong() : (long) tokens.getDouble();
    }
}
