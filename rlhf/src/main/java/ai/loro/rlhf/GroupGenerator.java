package ai.loro.rlhf;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.loro.core.generate.Generator;
import ai.loro.core.generate.Sampler;
import ai.loro.core.generate.SamplingParams;
import ai.loro.core.model.KvCache;
import ai.loro.core.model.LlamaModel;
import ai.loro.core.model.NoGrad;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.function.Function;

/**
 * Sampling {@code G} completions of each prompt with the prompt's prefix shared: each prompt is
 * prefilled once (a batch of B rows), the KV cache is copied to its G rows
 * ({@link KvCache#repeatRows}), and the B·G rows decode together. Without sharing
 * ({@code shared = false}) it is {@link Generator#generate} on the prompts each repeated G times,
 * i.e. B·G prefills. Either way row {@code r = i·G + j} (the j-th completion of prompt i) draws from
 * its own generator seeded {@code seed + 0x9E3779B97F4A7C15 · r}, the per-row seeding of
 * {@link Generator}, so both give the same completions (a test checks they do). Stop strings are
 * not supported here (RL rollouts stop at EOS or the length limit).
 */
public final class GroupGenerator {
    /** Wall-clock split of the last call: the prefill pass and the decode passes. */
    public record Timing(long prefillNanos, int prefillRows, long decodeNanos, int decodeSteps) {}

    private final LlamaModel model;
    private final Generator plain;
    private final Set<Long> eosIds;
    private final Function<long[], String> decoder;
    private final boolean shared;
    private Timing lastTiming;

    public GroupGenerator(LlamaModel model, Set<Long> eosIds, Function<long[], String> decoder, boolean shared) {
        this.model = model;
        this.plain = new Generator(model, eosIds, decoder);
        this.eosIds = Set.copyOf(eosIds);
        this.decoder = decoder;
        this.shared = shared;
    }

    public Timing lastTiming() {
        return lastTiming;
    }

    /** B·G results, row {@code i·G + j} the j-th completion of prompt i (no gradient). */
    public List<Generator.Result> generate(List<long[]> prompts, int copies, SamplingParams params) {
        if (!params.stopStrings().isEmpty()) {
            throw new IllegalArgumentException("group sampling stops at EOS or the length limit only");
        }
        try (NoGrad ng = new NoGrad()) {
            if (!shared || copies == 1) {
                List<long[]> repeated = new ArrayList<>();
                prompts.forEach(p -> {
                    for (int j = 0; j < copies; j++) {
                        repeated.add(p);
                    }
                });
                List<Generator.Result> out = plain.generate(repeated, params);
                Generator.Timing t = plain.lastTiming();
                lastTiming = new Timing(t.prefillNanos(), repeated.size(), t.decodeNanos(), t.decodeSteps());
                return out;
            }
            return sharedPrefix(prompts, copies, params);
        }
    }

    private List<Generator.Result> sharedPrefix(List<long[]> prompts, int copies, SamplingParams params) {
        int b = prompts.size();
        int n = b * copies;
        int maxPrompt = 0;
        for (int i = 0; i < b; i++) {
            model.checkTokenIds(prompts.get(i), "prompt " + i);
            maxPrompt = Math.max(maxPrompt, prompts.get(i).length);
        }
        int capacity = Math.max(1, maxPrompt + params.maxNewTokens());
        long padId = model.config().padTokenId() != null ? model.config().padTokenId() : 0L;
        long[] promptIds = new long[b * maxPrompt];
        long[] promptMask = new long[b * maxPrompt];
        long[][] mask = new long[n][capacity]; // each row's running padding mask
        for (int i = 0; i < b; i++) {
            long[] p = prompts.get(i);
            int off = maxPrompt - p.length; // left padding, as Generator
            Arrays.fill(promptIds, i * maxPrompt, i * maxPrompt + off, padId);
            System.arraycopy(p, 0, promptIds, i * maxPrompt + off, p.length);
            Arrays.fill(promptMask, i * maxPrompt + off, (i + 1) * maxPrompt, 1L);
            for (int j = 0; j < copies; j++) {
                Arrays.fill(mask[i * copies + j], off, maxPrompt, 1L);
            }
        }
        List<List<Long>> generated = new ArrayList<>();
        String[] finish = new String[n];
        SplittableRandom[] rngs = new SplittableRandom[n];
        for (int r = 0; r < n; r++) {
            generated.add(new ArrayList<>());
            rngs[r] = new SplittableRandom(params.seed() + 0x9E3779B97F4A7C15L * r);
        }
        int vocab = model.config().vocabSize();
        long t0 = System.nanoTime();
        long prefillNanos;
        long decodeNanos = 0;
        int decodeSteps = 0;
        try (NDManager gm = model.manager().newSubManager()) {
            float[] last; // (B·V) the prompts' next-token logits
            KvCache cache;
            try (KvCache prefix = model.newCache(b, capacity)) {
                last = lastLogits(gm, promptIds, b, maxPrompt, promptMask, prefix);
                cache = prefix.repeatRows(copies);
            }
            prefillNanos = System.nanoTime() - t0;
            try (cache) {
                int rowsOfLast = copies; // step 0: row r reads prompt r / copies
                for (int step = 0; step < params.maxNewTokens(); step++) {
                    long[] next = new long[n];
                    boolean allDone = true;
                    int total = cache.length();
                    for (int r = 0; r < n; r++) {
                        if (finish[r] != null) {
                            next[r] = padId;
                            continue;
                        }
                        int src = r / rowsOfLast;
                        int token = Sampler.sample(Arrays.copyOfRange(last, src * vocab, (src + 1) * vocab), params, rngs[r]);
                        generated.get(r).add((long) token);
                        next[r] = token;
                        mask[r][total] = 1L;
                        if (params.stopOnEos() && eosIds.contains((long) token)) {
                            finish[r] = "eos";
                        } else {
                            allDone = false;
                        }
                    }
                    if (allDone || step == params.maxNewTokens() - 1) {
                        break;
                    }
                    long s = System.nanoTime();
                    long[] flat = new long[n * (total + 1)];
                    for (int r = 0; r < n; r++) {
                        System.arraycopy(mask[r], 0, flat, r * (total + 1), total + 1);
                    }
                    last = lastLogits(gm, next, n, 1, flat, cache);
                    rowsOfLast = 1;
                    decodeNanos += System.nanoTime() - s;
                    decodeSteps++;
                }
            }
        }
        lastTiming = new Timing(prefillNanos, b, decodeNanos, decodeSteps);
        List<Generator.Result> results = new ArrayList<>();
        for (int r = 0; r < n; r++) {
            long[] tokens = generated.get(r).stream().mapToLong(Long::longValue).toArray();
            String reason = finish[r] == null ? "length" : finish[r];
            String text = decoder == null ? null
                    : decoder.apply(reason.equals("eos") ? Arrays.copyOf(tokens, tokens.length - 1) : tokens);
            results.add(new Generator.Result(tokens, text, reason, null));
        }
        return results;
    }

    /** One pass of {@code ids} (rows, len) with the padding mask (rows, cached + len) through the cache: (rows·V) last logits. */
    private float[] lastLogits(NDManager gm, long[] ids, int rows, int len, long[] flatMask, KvCache cache) {
        try (NDScope scope = new NDScope(); NDManager sm = gm.newSubManager()) {
            scope.suppressNotUsedWarning();
            NDArray x = sm.create(ids, new Shape(rows, len));
            NDArray mk = sm.create(flatMask, new Shape(rows, flatMask.length / rows));
            NDArray hidden = model.hiddenStates(x, mk, cache); // (rows, len, H)
            return model.logits(hidden.get(new NDIndex(":, -1:, :"))).toType(DataType.FLOAT32, false).toFloatArray();
        }
    }
}
