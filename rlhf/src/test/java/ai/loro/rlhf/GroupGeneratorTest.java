package ai.loro.rlhf;

import static org.junit.jupiter.api.Assertions.*;

import ai.djl.Device;
import ai.djl.ndarray.types.DataType;
import ai.loro.core.generate.Generator;
import ai.loro.core.generate.SamplingParams;
import ai.loro.core.model.LlamaConfig;
import ai.loro.core.model.LlamaModel;
import ai.loro.core.model.ModelInit;
import ai.loro.core.model.TinyConfigs;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** Prefix sharing (one prefill per prompt, the KV cache copied to its G rows) samples what G prefills sample. */
class GroupGeneratorTest {
    @Test
    void sharedPrefixGivesTheCompletionsOfRepeatedPrompts() {
        LlamaConfig c = TinyConfigs.gqa();
        try (LlamaModel model = LlamaModel.fromHost(c, ModelInit.randomWeights(c, 42), DataType.FLOAT32, Device.cpu())) {
            List<long[]> prompts = List.of(new long[] {1, 5, 9, 3}, new long[] {2, 7}, new long[] {4, 4, 6, 8, 10, 12});
            SamplingParams p = new SamplingParams(10, 1.0, 0, 1.0, 7, List.of(), true);
            Set<Long> eos = Set.of(3L, 11L); // common enough in a random model's samples to end some rows early
            GroupGenerator shared = new GroupGenerator(model, eos, null, true);
            GroupGenerator plain = new GroupGenerator(model, eos, null, false);
            List<Generator.Result> a = shared.generate(prompts, 4, p);
            List<Generator.Result> b = plain.generate(prompts, 4, p);
            assertEquals(12, a.size());
            Set<String> distinct = new HashSet<>();
            Set<String> reasons = new HashSet<>();
            for (int r = 0; r < 12; r++) {
                assertArrayEquals(b.get(r).tokens(), a.get(r).tokens(), "row " + r);
                assertEquals(b.get(r).finishReason(), a.get(r).finishReason(), "row " + r);
                distinct.add(Arrays.toString(a.get(r).tokens()));
                reasons.add(a.get(r).finishReason());
            }
            assertTrue(distinct.size() > 6, "the G rows of a prompt sample differently: " + distinct);
            assertEquals(Set.of("eos", "length"), reasons, "rows that stop early and rows that run to the limit");
            assertEquals(3, shared.lastTiming().prefillRows(), "one prefill row per prompt");
            assertEquals(12, plain.lastTiming().prefillRows());
            // the same completions as the plain generator on the repeated prompts (row i·G + j, its own seed)
            List<Generator.Result> g = new Generator(model, eos, null).generate(
                    List.of(prompts.get(0), prompts.get(0), prompts.get(0), prompts.get(0), prompts.get(1), prompts.get(1),
                            prompts.get(1), prompts.get(1), prompts.get(2), prompts.get(2), prompts.get(2), prompts.get(2)), p);
            for (int r = 0; r < 12; r++) {
                assertArrayEquals(g.get(r).tokens(), a.get(r).tokens(), "row " + r);
            }
        }
    }
}
