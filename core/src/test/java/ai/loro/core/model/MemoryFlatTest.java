package ai.loro.core.model;

import static org.junit.jupiter.api.Assertions.*;

import ai.djl.Device;
import ai.djl.ndarray.BaseNDManager;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.loro.core.generate.Generator;
import ai.loro.core.generate.SamplingParams;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

/**
 * Many forward passes and generations leave no arrays behind: the parameter manager is capped (an
 * array attached to it during a step throws at the leaking line) and resident memory stays flat.
 */
class MemoryFlatTest {
    @Test
    void forwardAndGenerationDoNotLeak() throws Exception {
        LlamaConfig c = TinyConfigs.parse(TinyConfigs.json(97, 32, 48, 2, 4, 2));
        try (LlamaModel model = LlamaModel.fromHost(c, ModelInit.randomWeights(c, 1), DataType.FLOAT32, Device.cpu())) {
            long[] ids = new long[2 * 24];
            for (int i = 0; i < ids.length; i++) {
                ids[i] = (i * 7) % 97;
            }
            Generator gen = new Generator(model, Set.of(), null);
            Runnable step = () -> {
                try (NDScope scope = new NDScope(); NDManager m = model.manager().newSubManager()) {
                    scope.suppressNotUsedWarning();
                    model.tokenLogProbs(m.create(ids, new Shape(2, 24)), null).sum().getFloat();
                }
            };
            for (int i = 0; i < 50; i++) {
                step.run();
            }
            gen.generate(List.of(new long[] {1, 2, 3}, new long[] {4}), SamplingParams.greedy(8));
            ((BaseNDManager) model.manager()).cap();
            long before = rssKb();
            for (int i = 0; i < 400; i++) {
                step.run();
                if (i % 50 == 0) {
                    gen.generate(List.of(new long[] {1, 2, 3}, new long[] {4}), SamplingParams.greedy(8));
                }
            }
            long grown = rssKb() - before;
            assertTrue(grown < 40_000, "resident memory grew by " + grown + " kB over 400 steps");
        }
    }

    static long rssKb() throws Exception {
        for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
            if (line.startsWith("VmRSS:")) {
                return Long.parseLong(line.replaceAll("[^0-9]", ""));
            }
        }
        return 0;
    }
}
