package ai.loro.core.model;

import static org.junit.jupiter.api.Assertions.*;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** LlamaForSequenceClassification: score read at the last real token with left or right padding; export round trip. */
class SequenceClassifierTest {
    @TempDir Path tmp;

    @Test
    void scoresReadTheLastRealTokenWithLeftOrRightPadding() throws Exception {
        LlamaConfig causal = TinyConfigs.gqa();
        Map<String, double[]> w = ModelFixtures.weights(causal, 21);
        NaiveLlama naive = ModelFixtures.naive(causal, w);
        LlamaConfig rm = causal.asSequenceClassifier(1).withPadTokenId(0L);
        double[] score = new double[causal.hiddenSize()];
        for (int i = 0; i < score.length; i++) {
            score[i] = Math.sin(i + 1.0);
        }
        Map<String, double[]> rmWeights = new java.util.HashMap<>(w);
        rmWeights.put(HfNames.SCORE, score);
        long[][] rows = {{1, 4, 7, 9, 2}, {3, 8}};
        try (LlamaModel model = ModelFixtures.djl(rm, rmWeights, DataType.FLOAT64); NDManager m = model.manager().newSubManager()) {
            for (boolean left : new boolean[] {true, false}) {
                long[] ids = new long[10];
                long[] mask = new long[10];
                for (int b = 0; b < 2; b++) {
                    int off = left ? 5 - rows[b].length : 0;
                    for (int i = 0; i < rows[b].length; i++) {
                        ids[b * 5 + off + i] = rows[b][i];
                        mask[b * 5 + off + i] = 1;
                    }
                }
                NDArray maskArr = m.create(mask, new Shape(2, 5));
                double[] got = model.classify(model.hiddenStates(m.create(ids, new Shape(2, 5)), maskArr, null), maskArr)
                        .toDoubleArray();
                for (int b = 0; b < 2; b++) {
                    double[][] h = naive.hiddenStates(rows[b], java.util.stream.LongStream.range(0, rows[b].length).toArray());
                    double want = 0;
                    for (int i = 0; i < score.length; i++) {
                        want += h[rows[b].length - 1][i] * score[i];
                    }
                    assertEquals(want, got[b], 1e-10, (left ? "left" : "right") + " padding, row " + b);
                }
            }
        }
    }

    @Test
    void causalCheckpointBecomesAClassifierAndTheExportReloadsExactly() throws Exception {
        LlamaConfig c = TinyConfigs.gqa();
        try (LlamaModel lm = LlamaModel.fromHost(c, ModelInit.randomWeights(c, 2), DataType.FLOAT32, Device.cpu())) {
            ModelWriter.save(tmp.resolve("lm"), c, lm.parameters(), "F32", null);
        }
        long[] ids = {1, 5, 9, 3};
        float[] scores;
        try (LlamaModel rm = LlamaModel.loadAsClassifier(tmp.resolve("lm"), 3, 7, DataType.FLOAT32, Device.cpu());
             NDManager m = rm.manager().newSubManager()) {
            assertEquals("LlamaForSequenceClassification", rm.config().architecture());
            assertFalse(rm.parameters().containsKey(HfNames.LM_HEAD));
            assertArrayEquals(new long[] {3, c.hiddenSize()}, rm.parameters().get(HfNames.SCORE).getShape().getShape());
            NDArray x = m.create(ids, new Shape(1, 4));
            NDArray mask = m.ones(new Shape(1, 4), DataType.INT64);
            scores = rm.classify(rm.hiddenStates(x, mask, null), mask).toFloatArray();
            ModelWriter.save(tmp.resolve("rm"), rm.config().withPadTokenId(0L), rm.parameters(), "F32", null);
        }
        String json = Files.readString(tmp.resolve("rm/config.json"));
        assertTrue(json.contains("LlamaForSequenceClassification") && json.contains("\"pad_token_id\" : 0")
                && json.contains("\"id2label\""), json);
        try (LlamaModel back = LlamaModel.load(tmp.resolve("rm"), DataType.FLOAT32, Device.cpu());
             NDManager m = back.manager().newSubManager()) {
            assertEquals(3, back.config().numLabels());
            NDArray x = m.create(ids, new Shape(1, 4));
            NDArray mask = m.ones(new Shape(1, 4), DataType.INT64);
            assertArrayEquals(scores, back.classify(back.hiddenStates(x, mask, null), mask).toFloatArray(), 0f);
        }
    }
}
