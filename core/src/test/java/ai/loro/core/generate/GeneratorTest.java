package ai.loro.core.generate;

import static org.junit.jupiter.api.Assertions.*;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.loro.core.LoroException;
import ai.loro.core.model.LlamaConfig;
import ai.loro.core.model.LlamaModel;
import ai.loro.core.model.ModelInit;
import ai.loro.core.model.TinyConfigs;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Set;
import java.util.SplittableRandom;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

class GeneratorTest {
    static LlamaModel model;

    @BeforeAll
    static void up() {
        LlamaConfig c = TinyConfigs.gqa();
        model = LlamaModel.fromHost(c, ModelInit.randomWeights(c, 42), DataType.FLOAT32, Device.cpu());
    }

    @AfterAll
    static void down() {
        model.close();
    }

    /** Last-position logits of a full forward pass over {@code ids} (no cache). */
    private static float[] fullLastLogits(long[] ids) {
        try (NDManager m = model.manager().newSubManager()) {
            NDArray logits = model.forward(m.create(ids, new Shape(1, ids.length)), null, null);
            return logits.get(new NDIndex("0, -1, :")).toFloatArray();
        }
    }

    @Test
    void kvCacheDecodingEqualsFullRecomputation() {
        long[] prompt = {1, 5, 9, 3};
        Generator g = new Generator(model, Set.of(), null).keepLogits(true);
        Generator.Result r = g.generate(List.of(prompt), SamplingParams.greedy(12)).get(0);
        assertEquals(12, r.tokens().length);
        assertEquals("length", r.finishReason());
        long[] seq = Arrays.copyOf(prompt, prompt.length + r.tokens().length);
        System.arraycopy(r.tokens(), 0, seq, prompt.length, r.tokens().length);
        for (int step = 0; step < r.tokens().length; step++) {
            float[] full = fullLastLogits(Arrays.copyOf(seq, prompt.length + step));
            float[] cached = r.stepLogits()[step];
            float err = 0;
            for (int i = 0; i < full.length; i++) {
                err = Math.max(err, Math.abs(full[i] - cached[i]));
            }
            assertTrue(err < 1e-5, "step " + step + " max |Δlogit| " + err);
            assertEquals(Sampler.argmax(full), r.tokens()[step], "greedy token at step " + step);
        }
    }

    @Test
    void batchedPromptsOfDifferentLengthsEqualOneByOne() {
        List<long[]> prompts = List.of(new long[] {1, 5, 9, 3, 7, 7}, new long[] {1, 2}, new long[] {4, 8, 15});
        SamplingParams sampled = new SamplingParams(8, 0.9, 20, 0.95, 1234, List.of(), false);
        for (SamplingParams p : List.of(SamplingParams.greedy(8), sampled)) {
            Generator g = new Generator(model, Set.of(), null).keepLogits(true);
            List<Generator.Result> batched = g.generate(prompts, p);
            for (int b = 0; b < prompts.size(); b++) {
                // a single prompt uses stream index 0: give it the batched row's seed stream
                SamplingParams single = new SamplingParams(p.maxNewTokens(), p.temperature(), p.topK(), p.topP(),
                        p.seed() + 0x9E3779B97F4A7C15L * b, List.of(), false);
                Generator.Result alone = g.generate(List.of(prompts.get(b)), single).get(0);
                assertArrayEquals(alone.tokens(), batched.get(b).tokens(), "row " + b);
                for (int s = 0; s < alone.tokens().length; s++) {
                    assertArrayEquals(alone.stepLogits()[s], batched.get(b).stepLogits()[s], 1e-5f);
                }
            }
        }
    }

    @Test
    void stopsOnEosAndOnStopStrings() {
        long[] prompt = {1, 5, 9};
        Generator probe = new Generator(model, Set.of(), null);
        // seeded sampling: the same tokens each run, and (unlike greedy on a random model) varied
        SamplingParams sampled = new SamplingParams(8, 1.0, 0, 1.0, 7, List.of(), true);
        long[] free = probe.generate(List.of(prompt), sampled).get(0).tokens();
        // the first greedy token (after the first) that did not occur before it: make it the EOS
        int j = firstUnrepeated(free);
        assertTrue(j < free.length, "continuation repeats one token: " + Arrays.toString(free));
        Generator eos = new Generator(model, Set.of(free[j]), ids -> Arrays.toString(ids));
        Generator.Result r = eos.generate(List.of(prompt), sampled).get(0);
        assertEquals("eos", r.finishReason());
        assertArrayEquals(Arrays.copyOf(free, j + 1), r.tokens());
        // stop string: the decoder spells tokens as "<id>"; stop at that same token
        String stop = "<" + free[j] + ">";
        Generator byText = new Generator(model, Set.of(), ids -> {
            StringBuilder sb = new StringBuilder();
            for (long id : ids) {
                sb.append('<').append(id).append('>');
            }
            return sb.toString();
        });
        SamplingParams withStop = new SamplingParams(8, 1.0, 0, 1.0, 7, List.of(stop), true);
        Generator.Result s = byText.generate(List.of(prompt), withStop).get(0);
        assertEquals("stop", s.finishReason());
        StringBuilder before = new StringBuilder();
        for (int i = 0; i < j; i++) {
            before.append('<').append(free[i]).append('>');
        }
        assertEquals(before.toString(), s.text());
    }

    /** The first index ≥ 1 whose token does not occur earlier in the array. */
    private static int firstUnrepeated(long[] tokens) {
        for (int j = 1; j < tokens.length; j++) {
            boolean seen = false;
            for (int i = 0; i < j; i++) {
                seen |= tokens[i] == tokens[j];
            }
            if (!seen) {
                return j;
            }
        }
        return tokens.length;
    }

    @Test
    void seedMakesSamplingReproducible() {
        SamplingParams p = new SamplingParams(10, 1.0, 0, 1.0, 99, List.of(), false);
        Generator g = new Generator(model, Set.of(), null);
        long[] a = g.generate(List.of(new long[] {1, 2, 3}), p).get(0).tokens();
        long[] b = g.generate(List.of(new long[] {1, 2, 3}), p).get(0).tokens();
        assertArrayEquals(a, b);
        SamplingParams other = new SamplingParams(10, 1.0, 0, 1.0, 100, List.of(), false);
        assertFalse(Arrays.equals(a, g.generate(List.of(new long[] {1, 2, 3}), other).get(0).tokens()));
    }

    @Test
    void refusesOutOfVocabularyAndEmptyPrompts() {
        Generator g = new Generator(model, Set.of(), null);
        String m = assertThrows(LoroException.class,
                () -> g.generate(List.of(new long[] {1, 37}), SamplingParams.greedy(2))).getMessage();
        assertTrue(m.contains("token id 37") && m.contains("[0, 37)"), m);
        assertThrows(LoroException.class, () -> g.generate(List.of(new long[0]), SamplingParams.greedy(2)));
    }

    @Test
    void samplerFiltersFollowTransformersOrder() {
        // logits ln[0.5, 0.3, 0.15, 0.05]: top-p 0.8 keeps {0, 1} (0.5 < 0.8, 0.5 + 0.3 ≥ 0.8);
        // top-k 3 keeps {0, 1, 2}; top-p 0.5 keeps {0} only.
        float[] logits = {(float) Math.log(0.5), (float) Math.log(0.3), (float) Math.log(0.15), (float) Math.log(0.05)};
        SplittableRandom rng = new SplittableRandom(0);
        int[] counts = new int[4];
        SamplingParams p = new SamplingParams(1, 1.0, 0, 0.8, 0, List.of(), true);
        for (int i = 0; i < 20000; i++) {
            counts[Sampler.sample(logits, p, rng)]++;
        }
        assertEquals(0, counts[2] + counts[3]);
        assertEquals(0.5 / 0.8, counts[0] / 20000.0, 0.02);
        int[] k = new int[4];
        SamplingParams topK = new SamplingParams(1, 1.0, 3, 1.0, 0, List.of(), true);
        for (int i = 0; i < 20000; i++) {
            k[Sampler.sample(logits, topK, rng)]++;
        }
        assertEquals(0, k[3]);
        assertEquals(0.15 / 0.95, k[2] / 20000.0, 0.01);
        SamplingParams narrow = new SamplingParams(1, 1.0, 0, 0.5, 0, List.of(), true);
        for (int i = 0; i < 100; i++) {
            assertEquals(0, Sampler.sample(logits, narrow, rng));
        }
        // temperature 0.5 squares the odds: p ∝ [0.25, 0.09, ...]
        int[] t = new int[4];
        SamplingParams cold = new SamplingParams(1, 0.5, 0, 1.0, 0, List.of(), true);
        for (int i = 0; i < 20000; i++) {
            t[Sampler.sample(logits, cold, rng)]++;
        }
        double z = 0.25 + 0.09 + 0.0225 + 0.0025;
        assertEquals(0.25 / z, t[0] / 20000.0, 0.02);
        assertArrayEquals(new int[] {3, 0, 2, 1}, Sampler.descendingOrder(new float[] {0.1f, -1f, 0.1f, 2f}));
        assertEquals(2, Sampler.argmax(new float[] {-5f, -1f, 3f, 3f}));
    }
}
