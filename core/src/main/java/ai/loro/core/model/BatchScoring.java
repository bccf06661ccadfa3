package ai.loro.core.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import ai.djl.ndarray.types.DataType;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Batched, no-grad scoring of token rows of any lengths (right-padded and masked, so each row scores as
 * it would alone): next-token log-probs ({@code loro logprobs}, the benchmark, the quickstart's KL) and
 * sequence-classifier outputs ({@code loro score}, classifier rewards, reward-model evaluation).
 */
public final class BatchScoring {
    private BatchScoring() {}

    /** Per row {@code lp[t] = log p(row[t+1] | row[..t])} (length n-1), one forward pass for the batch. */
    public static List<float[]> tokenLogProbs(LlamaModel model, List<long[]> batch) {
        List<float[]> out = new ArrayList<>();
        PaddedRows p = PaddedRows.right(batch, 0); // padding id 0: masked out, never read
        if (p.length() < 2) {
            batch.forEach(s -> out.add(new float[0]));
            return out;
        }
        float[] flat;
        try (NDScope scope = new NDScope(); NDManager m = model.manager().newSubManager(); NoGrad ng = new NoGrad()) {
            scope.suppressNotUsedWarning();
            flat = model.tokenLogProbs(p.idsArray(m), p.maskArray(m)).toType(DataType.FLOAT32, false).toFloatArray(); // (B, T-1)
        }
        int t = p.length();
        for (int b = 0; b < batch.size(); b++) {
            int n = batch.get(b).length - 1;
            out.add(Arrays.copyOfRange(flat, b * (t - 1), b * (t - 1) + Math.max(0, n)));
        }
        return out;
    }

    /** A sequence classifier's outputs for each row, {@code batchSize} rows per forward pass: (rows, labels). */
    public static float[][] classify(LlamaModel model, List<long[]> rows, int batchSize) {
        float[][] out = new float[rows.size()][];
        try (NoGrad ng = new NoGrad()) {
            for (int from = 0; from < rows.size(); from += batchSize) {
                int to = Math.min(rows.size(), from + batchSize);
                PaddedRows p = PaddedRows.right(rows.subList(from, to), 0);
                try (NDScope scope = new NDScope(); NDManager m = model.manager().newSubManager()) {
                    scope.suppressNotUsedWarning();
                    NDArray mask = p.maskArray(m);
                    float[] flat = model.classify(model.hiddenStates(p.idsArray(m), mask, null), mask)
                            .toType(DataType.FLOAT32, false).toFloatArray(); // (rows, labels)
                    int labels = flat.length / (to - from);
                    for (int i = from; i < to; i++) {
                        out[i] = Arrays.copyOfRange(flat, (i - from) * labels, (i - from + 1) * labels);
                    }
                }
            }
        }
        return out;
    }
}
