package ai.loro.core.model;

import static org.junit.jupiter.api.Assertions.*;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.api.Test;

/** The DJL model against the independent fp64 loops of {@link NaiveLlama}. */
class LlamaModelParityTest {
    static Stream<LlamaConfig> shapes() {
        ObjectNode tied = TinyConfigs.json(23, 12, 20, 2, 3, 1);
        tied.put("tie_word_embeddings", true);
        tied.put("attention_bias", true);
        tied.put("mlp_bias", true);
        ObjectNode llama3 = TinyConfigs.json(29, 16, 24, 2, 2, 1);
        llama3.put("head_dim", 8);
        llama3.putObject("rope_scaling").put("rope_type", "llama3").put("factor", 8.0).put("low_freq_factor", 1.0)
                .put("high_freq_factor", 4.0).put("original_max_position_embeddings", 16);
        ObjectNode headDim = TinyConfigs.json(31, 16, 24, 1, 4, 2);
        headDim.put("head_dim", 6); // heads · head_dim ≠ hidden, as in some Mistral/Qwen shapes
        return Stream.of(TinyConfigs.gqa(), TinyConfigs.parse(tied), TinyConfigs.parse(llama3), TinyConfigs.parse(headDim));
    }

    private static final long[] IDS = {1, 5, 9, 3, 3, 17, 0, 22, 8, 2, 11};

    @ParameterizedTest
    @MethodSource("shapes")
    void logitsMatchNaiveInFp64AndFp32(LlamaConfig c) {
        Map<String, double[]> w = ModelFixtures.weights(c, 7);
        double[] expected = ModelFixtures.flatten(ModelFixtures.naive(c, w).logits(IDS));
        for (DataType dtype : List.of(DataType.FLOAT64, DataType.FLOAT32)) {
            try (LlamaModel model = ModelFixtures.djl(c, w, dtype); NDManager m = model.manager().newSubManager()) {
                NDArray ids = m.create(IDS, new Shape(1, IDS.length));
                double[] got = model.forward(ids, null, null).toType(DataType.FLOAT64, false).toDoubleArray();
                double err = ModelFixtures.maxAbsDiff(expected, got);
                assertTrue(err < (dtype == DataType.FLOAT64 ? 1e-11 : 2e-5), dtype + " max |Δlogit| = " + err);
            }
        }
    }

    @Test
    void leftAndRightPaddedBatchesEqualUnpaddedRows() {
        LlamaConfig c = TinyConfigs.gqa();
        Map<String, double[]> w = ModelFixtures.weights(c, 11);
        NaiveLlama naive = ModelFixtures.naive(c, w);
        long[][] rows = {{1, 4, 7, 9, 2, 5}, {1, 8}, {3, 3, 6, 10}};
        int t = 6;
        long pad = 0;
        try (LlamaModel model = ModelFixtures.djl(c, w, DataType.FLOAT64); NDManager m = model.manager().newSubManager()) {
            for (boolean left : new boolean[] {true, false}) {
                long[] ids = new long[rows.length * t];
                long[] mask = new long[rows.length * t];
                for (int b = 0; b < rows.length; b++) {
                    int off = left ? t - rows[b].length : 0;
                    java.util.Arrays.fill(ids, b * t, b * t + t, pad);
                    for (int i = 0; i < rows[b].length; i++) {
                        ids[b * t + off + i] = rows[b][i];
                        mask[b * t + off + i] = 1;
                    }
                }
                NDArray logits = model.forward(m.create(ids, new Shape(rows.length, t)),
                        m.create(mask, new Shape(rows.length, t)), null); // (B, T, V)
                for (int b = 0; b < rows.length; b++) {
                    int off = left ? t - rows[b].length : 0;
                    double[] got = logits.get(new NDIndex("{}, {}:{}, :", b, off, off + rows[b].length)).toDoubleArray();
                    double[] want = ModelFixtures.flatten(naive.logits(rows[b]));
                    double err = ModelFixtures.maxAbsDiff(want, got);
                    assertTrue(err < 1e-11, (left ? "left" : "right") + " padding row " + b + ": " + err);
                }
            }
        }
    }

    @Test
    void tokenLogProbsAreNextTokenLogSoftmax() {
        LlamaConfig c = TinyConfigs.gqa();
        Map<String, double[]> w = ModelFixtures.weights(c, 3);
        double[][] logits = ModelFixtures.naive(c, w).logits(IDS);
        double[] want = new double[IDS.length - 1];
        for (int t = 0; t + 1 < IDS.length; t++) {
            want[t] = NaiveLlama.logSoftmax(logits[t])[(int) IDS[t + 1]];
        }
        try (LlamaModel model = ModelFixtures.djl(c, w, DataType.FLOAT64); NDManager m = model.manager().newSubManager()) {
            double[] got = model.tokenLogProbs(m.create(IDS, new Shape(1, IDS.length)), null).toDoubleArray();
            assertTrue(ModelFixtures.maxAbsDiff(want, got) < 1e-12);
        }
    }

    @Test
    void packedRowsEqualSeparateExamples() {
        LlamaConfig c = TinyConfigs.gqa();
        Map<String, double[]> w = ModelFixtures.weights(c, 13);
        NaiveLlama naive = ModelFixtures.naive(c, w);
        long[] a = {1, 4, 7, 9};
        long[] b = {3, 8, 2};
        // one row: [a a a a b b b pad], segments [1 1 1 1 2 2 2 0], positions restart per example
        long[] ids = {1, 4, 7, 9, 3, 8, 2, 0};
        long[] seg = {1, 1, 1, 1, 2, 2, 2, 0};
        long[] pos = {0, 1, 2, 3, 0, 1, 2, 0};
        try (LlamaModel model = ModelFixtures.djl(c, w, DataType.FLOAT64); NDManager m = model.manager().newSubManager()) {
            NDArray hidden = model.hiddenStatesPacked(m.create(ids, new Shape(1, 8)), m.create(seg, new Shape(1, 8)),
                    m.create(pos, new Shape(1, 8)));
            NDArray logits = model.logits(hidden);
            double[] gotA = logits.get(new NDIndex("0, 0:4, :")).toDoubleArray();
            double[] gotB = logits.get(new NDIndex("0, 4:7, :")).toDoubleArray();
            assertTrue(ModelFixtures.maxAbsDiff(ModelFixtures.flatten(naive.logits(a)), gotA) < 1e-11);
            assertTrue(ModelFixtures.maxAbsDiff(ModelFixtures.flatten(naive.logits(b)), gotB) < 1e-11);
        }
    }
}
