package ai.loro.core.model;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * Random initialisation as transformers' {@code LlamaPreTrainedModel._init_weights} does it:
 * linear and embedding weights ~ N(0, initializer_range), biases 0, RMSNorm weights 1, the
 * padding token's embedding row 0. Each tensor draws from its own stream seeded by (seed, name),
 * so the values do not depend on tensor order or on other tensors' shapes.
 */
public final class ModelInit {
    private ModelInit() {}

    public static Map<String, float[]> randomWeights(LlamaConfig config, long seed) {
        Map<String, float[]> out = new LinkedHashMap<>();
        for (Map.Entry<String, long[]> e : HfNames.expectedTensors(config).entrySet()) {
            String name = e.getKey();
            long n = 1;
            for (long d : e.getValue()) {
                n *= d;
            }
            if (n > Integer.MAX_VALUE - 8) {
                throw new ai.loro.core.LoroException("tensor " + name + " has " + n + " elements; at most "
                        + (Integer.MAX_VALUE - 8) + " per tensor can be initialised");
            }
            float[] w = new float[(int) n];
            if (name.endsWith("norm.weight")) {
                java.util.Arrays.fill(w, 1f);
            } else if (name.endsWith(".weight")) {
                SplittableRandom rng = new SplittableRandom(seed * 0x9E3779B97F4A7C15L + name.hashCode());
                float std = (float) config.initializerRange();
                for (int i = 0; i < w.length; i++) {
                    w[i] = (float) rng.nextGaussian() * std;
                }
                if (name.equals(HfNames.EMBED) && config.padTokenId() != null) {
                    int h = config.hiddenSize();
                    java.util.Arrays.fill(w, (int) (config.padTokenId() * h), (int) (config.padTokenId() * h + h), 0f);
                }
            }
            out.put(name, w);
        }
        return out;
    }
}
