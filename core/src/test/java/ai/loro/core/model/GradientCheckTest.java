package ai.loro.core.model;

import static org.junit.jupiter.api.Assertions.*;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.GradientCollector;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * Whole-model gradient check in fp64: autograd's gradient of a scalar loss (a weighted sum of
 * next-token log-probabilities, with padding) against central differences, for sampled entries
 * of every parameter tensor.
 */
class GradientCheckTest {
    @Test
    void autogradMatchesCentralDifferences() {
        ObjectNode json = TinyConfigs.json(13, 8, 12, 2, 4, 2);
        json.put("attention_bias", true);
        json.put("mlp_bias", true);
        LlamaConfig c = TinyConfigs.parse(json);
        Map<String, double[]> w = ModelFixtures.weights(c, 5);
        long[] ids = {0, 0, 1, 4, 7, 9, 2, 3, 3, 12};
        long[] mask = {0, 0, 1, 1, 1, 1, 1, 1, 1, 1}; // left padding in row 0
        try (LlamaModel model = ModelFixtures.djl(c, w, DataType.FLOAT64); NDManager m = model.manager().newSubManager()) {
            NDArray idArr = m.create(ids, new Shape(2, 5));
            NDArray maskArr = m.create(mask, new Shape(2, 5));
            // loss weights are 0 where the query is padding (as any loss mask must be): a fully
            // masked attention row is uniform, and its score gradient is lost to rounding in -1e30 + s
            NDArray weights = m.create(new double[] {0, 0, -1, 2, 1, 0.3, -0.7, 1.1}, new Shape(2, 4));
            for (NDArray p : model.parameters().values()) {
                p.setRequiresGradient(true);
            }
            try (GradientCollector gc = Engine.getInstance().newGradientCollector()) {
                NDArray loss = model.tokenLogProbs(idArr, maskArr).mul(weights).sum();
                gc.backward(loss);
            }
            Random rng = new Random(1);
            int checked = 0;
            for (Map.Entry<String, NDArray> e : model.parameters().entrySet()) {
                NDArray p = e.getValue();
                double[] grad = p.getGradient().toDoubleArray();
                double[] values = p.toDoubleArray();
                for (int s = 0; s < 3; s++) {
                    int i = rng.nextInt(values.length);
                    double h = 1e-6;
                    double orig = values[i];
                    values[i] = orig + h;
                    p.set(values);
                    double up = lossOf(model, idArr, maskArr, weights);
                    values[i] = orig - h;
                    p.set(values);
                    double down = lossOf(model, idArr, maskArr, weights);
                    values[i] = orig;
                    p.set(values);
                    double numeric = (up - down) / (2 * h);
                    assertEquals(numeric, grad[i], 1e-6 + 1e-5 * Math.abs(numeric), e.getKey() + "[" + i + "]");
                    checked++;
                }
            }
            assertTrue(checked >= 3 * model.parameters().size());
        }
    }

    private static double lossOf(LlamaModel model, NDArray ids, NDArray mask, NDArray weights) {
        try (NDManager m = ids.getManager().newSubManager()) {
            NDArray i = ids.duplicate();
            i.attach(m);
            return model.tokenLogProbs(i, mask).mul(weights).sum().getDouble();
        }
    }
}
