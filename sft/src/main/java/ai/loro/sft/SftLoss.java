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
        NDArray ids = m.create(Batch.flat(b.inputIds()), new Shape(rows, t));
        NDArray hidden = b.segmentIds() != null
                ? model.hiddenStatesPacked(ids, m.create(Batch.flat(b.segmentIds()), new Shape(rows, t)),
                        m.create(Batch.flat(b.positionIds()), new Shape(rows, t)))
                : model.hiddenStates(ids, m.create(Batch.flat(b.attentionMask()), new Shape(rows, t)), null);
        NDArray logp = model.tokenLogProbsFromHidden(hidden, ids); // (B, T-1)
        NDArray mask = m.create(b.nextTokenLossMask(), new Shape(rows, t - 1)).toType(logp.getDataType(), false);
        NDArray nll = logp.mul(mask).sum().neg();
        return new NDArray[] {nll, m.create(b.trainableTokens())};
    }

    public static long count(NDArray tokens) {
        return tokens.getDataType() == DataType.INT64 ? tokens.getLong() : (long) tokens.getDouble();
    }
}
