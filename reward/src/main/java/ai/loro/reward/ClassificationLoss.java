package ai.loro.reward;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.DataType;
import ai.loro.core.LoroException;
import ai.loro.core.loss.LossOps;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Sequence classification with {@code num_labels > 1} (transformers' LlamaForSequenceClassification
 * with single-label targets): cross-entropy over the pooled logits, labels equal to
 * {@link #IGNORE_INDEX} left out of the loss and the metrics, as torch's CrossEntropyLoss does.
 */
public final class ClassificationLoss {
    private ClassificationLoss() {}

    /** torch.nn.CrossEntropyLoss's default ignore_index. */
    public static final long IGNORE_INDEX = -100;

    /** The scalar loss (mean over the labelled rows) and {@code accuracy}. */
    public record Result(NDArray loss, Map<String, Double> metrics) {}

    /**
     * @param logits (B, N) pooled logits
     * @param labels (B) int class ids in [0, N), or -100 to ignore a row
     */
    public static Result crossEntropy(NDArray logits, NDArray labels) {
        long[] y = labels.toType(DataType.INT64, false).toLongArray();
        int b = (int) logits.getShape().get(0);
        int n = (int) logits.getShape().get(1);
        if (y.length != b) {
            throw new LoroException("classification: " + y.length + " labels for " + b + " rows of logits");
        }
        double[] onehot = new double[b * n]; // (B, N): 1 at the label, all-zero rows for ignored labels
        int counted = 0;
        for (int i = 0; i < b; i++) {
            checkLabel(y[i], n, i);
            if (y[i] != IGNORE_INDEX) {
                onehot[i * n + (int) y[i]] = 1;
                counted++;
            }
        }
        if (counted == 0) {
            throw new LoroException("classification: every label in the batch is " + IGNORE_INDEX + " (ignored)");
        }
        NDArray target = LossOps.create(logits, onehot, logits.getShape()); // (B, N)
        NDArray logp = logits.logSoftmax(1); // (B, N)
        NDArray loss = LossOps.times(logp.mul(target).sum().neg(), 1.0 / counted); // () −Σ_i log p_i[y_i] / #labelled
        Map<String, Double> metrics = new LinkedHashMap<>();
        metrics.put("accuracy", accuracy(logits, labels));
        return new Result(loss, metrics);
    }

    /** Share of labelled rows whose argmax logit is the label. */
    public static double accuracy(NDArray logits, NDArray labels) { // (B, N), (B)
        long[] y = labels.toType(DataType.INT64, false).toLongArray();
        long[] pred = logits.stopGradient().argMax(1).toLongArray();
        int hit = 0;
        int counted = 0;
        for (int i = 0; i < y.length; i++) {
            if (y[i] != IGNORE_INDEX) {
                counted++;
                hit += pred[i] == y[i] ? 1 : 0;
            }
        }
        return counted == 0 ? Double.NaN : (double) hit / counted;
    }

    /** {@code long[N][N]} of counts, row = true label, column = predicted (argmax) label. */
    public static long[][] confusionMatrix(NDArray logits, NDArray labels) { // (B, N), (B)
        ConfusionMatrix cm = new ConfusionMatrix((int) logits.getShape().get(1));
        cm.add(logits, labels);
        return cm.counts();
    }

    private static void checkLabel(long label, int n, int row) {
        if (label != IGNORE_INDEX && (label < 0 || label >= n)) {
            throw new LoroException("classification: label " + label + " in row " + row + " is outside [0, " + n
                    + ") and is not " + IGNORE_INDEX);
        }
    }

    /** Accumulates a confusion matrix over batches (row = true label, column = prediction). */
    public static final class ConfusionMatrix {
        private final long[][] counts;

        public ConfusionMatrix(int numLabels) {
            if (numLabels < 2) {
                throw new LoroException("num_labels must be ≥ 2 for a confusion matrix, got " + numLabels);
            }
            counts = new long[numLabels][numLabels];
        }

        public void add(int trueLabel, int predicted) {
            checkLabel(trueLabel, counts.length, 0);
            checkLabel(predicted, counts.length, 0);
            counts[trueLabel][predicted]++;
        }

        /** Adds a batch; rows labelled -100 are skipped. */
        public void add(NDArray logits, NDArray labels) { // (B, N), (B)
            long[] y = labels.toType(DataType.INT64, false).toLongArray();
            long[] pred = logits.stopGradient().argMax(1).toLongArray();
            for (int i = 0; i < y.length; i++) {
                checkLabel(y[i], counts.length, i);
                if (y[i] != IGNORE_INDEX) {
                    counts[(int) y[i]][(int) pred[i]]++;
                }
            }
        }

        /** A copy of the counts. */
        public long[][] counts() {
            long[][] c = new long[counts.length][];
            for (int i = 0; i < c.length; i++) {
                c[i] = Arrays.copyOf(counts[i], counts[i].length);
            }
            return c;
        }
    }
}
