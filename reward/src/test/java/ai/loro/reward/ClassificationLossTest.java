package ai.loro.reward;

import static org.junit.jupiter.api.Assertions.*;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.loro.core.LoroException;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

class ClassificationLossTest {
    static NDManager m;

    @BeforeAll
    static void up() {
        m = NDManager.newBaseManager();
    }

    @AfterAll
    static void down() {
        m.close();
    }

    // rows: [1,2,3] label 2 (right), [0,0,0] label 0 (tie → argmax 0, right), [9,0,0] label −100
    // (ignored), [0,5,1] label 0 (predicted 1, wrong)
    static NDArray logits() {
        return m.create(new double[] {1, 2, 3, 0, 0, 0, 9, 0, 0, 0, 5, 1}, new Shape(4, 3));
    }

    static NDArray labels() {
        return m.create(new long[] {2, 0, -100, 0});
    }

    @Test
    void crossEntropyByHand() {
        // −log softmax: row 0: ln(1 + e^−1 + e^−2) = 0.40760596444438; row 1: ln 3 = 1.09861228866811;
        // row 3: ln(1 + e^5 + e) = 5.02474489013882; mean over the 3 labelled rows = 2.17698771441710
        ClassificationLoss.Result r = ClassificationLoss.crossEntropy(logits(), labels());
        assertEquals(2.176987714417104, r.loss().getDouble(), 1e-13);
        assertEquals(2.0 / 3, r.metrics().get("accuracy"), 1e-15);
    }

    @Test
    void confusionMatrixRowsAreTrueLabels() {
        long[][] cm = ClassificationLoss.confusionMatrix(logits(), labels());
        assertArrayEquals(new long[][] {{1, 1, 0}, {0, 0, 0}, {0, 0, 1}}, cm);
        ClassificationLoss.ConfusionMatrix acc = new ClassificationLoss.ConfusionMatrix(3);
        acc.add(logits(), labels());
        acc.add(1, 2);
        assertEquals(1, acc.counts()[1][2]);
        assertEquals(1, acc.counts()[0][1]);
    }

    @Test
    void badLabelsAreOneLineErrors() {
        LoroException e = assertThrows(LoroException.class,
                () -> ClassificationLoss.crossEntropy(logits(), m.create(new long[] {2, 3, 0, 0})));
        assertEquals("classification: label 3 in row 1 is outside [0, 3) and is not -100", e.getMessage());
        assertThrows(LoroException.class,
                () -> ClassificationLoss.crossEntropy(logits(), m.create(new long[] {-100, -100, -100, -100})));
    }
}
