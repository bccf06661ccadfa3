package ai.loro.sft;

import static org.junit.jupiter.api.Assertions.*;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.loro.core.model.LlamaConfig;
import ai.loro.core.model.LlamaModel;
import ai.loro.core.model.ModelInit;
import ai.loro.core.model.TinyConfigs;
import ai.loro.core.train.EvalLoss;
import ai.loro.datasets.Batch;
import java.util.List;
import org.junit.jupiter.api.Test;

/** SFT's loss against hand arithmetic: −log p of exactly the loss-masked tokens, prompts and padding excluded. */
class SftLossTest {
    static final LlamaConfig CONFIG = TinyConfigs.gqa();
    static final long PAD = 0;

    /** Row 0: prompt 3, 4 then response 5, 6, 7; row 1: prompt 8 then response 9, padded with two pads. */
    static Batch batch() {
        long[][] ids = {{3, 4, 5, 6, 7}, {8, 9, 2, PAD, PAD}};
        long[][] mask = {{1, 1, 1, 1, 1}, {1, 1, 1, 0, 0}};
        boolean[][] loss = {{false, false, true, true, true}, {false, true, true, false, false}};
        long[][] labels = new long[2][5];
        for (int r = 0; r < 2; r++) {
            for (int t = 0; t < 5; t++) {
                labels[r][t] = loss[r][t] ? ids[r][t] : -100;
            }
        }
        return new Batch(ids, mask, labels, loss, null, null);
    }

    /** log_softmax(logits[r, t])[ids[r, t+1]] in double, from the model's raw (B, T, V) logits. */
    static double logProb(float[] logits, int row, int t, long next, int len) {
        int v = CONFIG.vocabSize();
        int base = (row * len + t) * v;
        double max = Double.NEGATIVE_INFINITY;
        for (int i = 0; i < v; i++) {
            max = Math.max(max, logits[base + i]);
        }
        double sum = 0;
        for (int i = 0; i < v; i++) {
            sum += Math.exp(logits[base + i] - max);
        }
        return logits[base + (int) next] - max - Math.log(sum);
    }

    @Test
    void nllSumIsMinusTheLogProbsOfTheMaskedTokensOnly() {
        Batch b = batch();
        try (LlamaModel model = LlamaModel.fromHost(CONFIG, ModelInit.randomWeights(CONFIG, 7), DataType.FLOAT32, Device.cpu());
             NDManager m = model.manager().newSubManager()) {
            NDArray ids = m.create(Batch.flat(b.inputIds()), new Shape(2, 5));
            NDArray mask = m.create(Batch.flat(b.attentionMask()), new Shape(2, 5));
            float[] logits = model.forward(ids, mask, null).toFloatArray();
            // trained tokens: 5, 6, 7 (predicted at positions 1, 2, 3 of row 0) and 9, 2 (positions 0, 1 of row 1)
            double expected = -(logProb(logits, 0, 1, 5, 5) + logProb(logits, 0, 2, 6, 5) + logProb(logits, 0, 3, 7, 5)
                    + logProb(logits, 1, 0, 9, 5) + logProb(logits, 1, 1, 2, 5));
            NDArray[] nll = SftLoss.nllSum(model, b, m);
            assertEquals(expected, nll[0].toType(DataType.FLOAT64, false).getDouble(), 1e-4);
            assertEquals(5, SftLoss.count(nll[1]));
            // the evaluation sums the same over its batches: the mean per loss token is the masked mean
            EvalLoss.Result r = SftStage.evaluation(model, List.of(b, b)).evaluate(m, 0);
            assertEquals(10, r.tokens());
            assertEquals(expected / 5, r.loss(), 1e-4);
        }
    }

    @Test
    void countReadsIntegerAndDoubleTokenCounts() {
        try (NDManager m = NDManager.newBaseManager(Device.cpu())) {
            assertEquals(7, SftLoss.count(m.create(7L)));
            assertEquals(7, SftLoss.count(m.create(7.0)));
        }
    }
}
