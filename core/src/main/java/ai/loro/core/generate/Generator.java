package ai.loro.core.generate;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.loro.core.LoroException;
import ai.loro.core.model.KvCache;
import ai.loro.core.model.LlamaModel;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.function.Function;

/**
 * Autoregressive generation with a KV cache. Prompts of different lengths are left-padded into one
 * batch (positions from the padding mask, as transformers' generate does); one prefill pass, then
 * one single-token pass per step that reuses the cached keys and values.
 */
public final class Generator {
    /** One prompt's continuation. {@code finishReason}: "eos", "stop" (a stop string) or "length". */
    public record Result(long[] tokens, String text, String finishReason, float[][] stepLogits) {}

    /** Wall-clock split of the last call, for benchmarks. */
    public record Timing(long prefillNanos, int prefillTokens, long decodeNanos, int decodeSteps, int decodeTokens) {}

    private final LlamaModel model;
    private final Set<Long> eosIds;
    private final Function<long[], String> decoder;
    private boolean keepLogits;
    private Timing lastTiming;

    /**
     * @param eosIds tokens that end a sequence
     * @param decoder token ids → text, needed for stop strings and {@link Result#text()}; may be null
     */
    public Generator(LlamaModel model, Set<Long> eosIds, Function<long[], String> decoder) {
        this.model = model;
        this.eosIds = Set.copyOf(eosIds);
        this.decoder = decoder;
    }

    /** Keep each step's logits (for tests and log-prob reporting); off by default. */
    public Generator keepLogits(boolean keep) {
        this.keepLogits = keep;
        return this;
    }

    public Timing lastTiming() {
        return lastTiming;
    }

    /** Each row's sampler seeded with {@code params.seed() + 0x9E3779B97F4A7C15 · b} (b = its place in the batch). */
    public List<Result> generate(List<long[]> prompts, SamplingParams params) {
        long[] seeds = new long[prompts.size()];
        for (int b = 0; b < seeds.length; b++) {
            seeds[b] = params.seed() + 0x9E3779B97F4A7C15L * b;
        }
        return generate(prompts, params, seeds);
    }

    /**
     * As {@link #generate(List, SamplingParams)}, with row {@code b}'s sampler seeded with {@code rowSeeds[b]}
     * ({@code params.seed()} unused): a row's draws then do not depend on which rows share its batch.
     */
    public List<Result> generate(List<long[]> prompts, SamplingParams params, long[] rowSeeds) {
        int batch = prompts.size();
        if (rowSeeds.length != batch) {
            throw new IllegalArgumentException(rowSeeds.length + " seeds for " + batch + " prompts");
        }
        if (batch == 0) {
            return List.of();
        }
        if (!params.stopStrings().isEmpty() && decoder == null) {
            throw new LoroException("stop strings need a tokenizer to decode the generated text");
        }
        int maxPrompt = 0;
        for (int b = 0; b < batch; b++) {
            if (prompts.get(b).length == 0) {
                throw new LoroException("prompt " + b + " is empty: generation needs at least one token (e.g. BOS)");
            }
            model.checkTokenIds(prompts.get(b), "prompt " + b);
            maxPrompt = Math.max(maxPrompt, prompts.get(b).length);
        }
        int capacity = maxPrompt + params.maxNewTokens();
        long padId = model.config().padTokenId() != null ? model.config().padTokenId() : 0L;
        // host-side state: the running padding mask over all positions, and each row's output
        long[][] mask = new long[batch][capacity];
        long[] promptIds = new long[batch * maxPrompt];
        for (int b = 0; b < batch; b++) {
            long[] p = prompts.get(b);
            int offset = maxPrompt - p.length; // left padding
            Arrays.fill(promptIds, b * maxPrompt, b * maxPrompt + offset, padId);
            System.arraycopy(p, 0, promptIds, b * maxPrompt + offset, p.length);
            Arrays.fill(mask[b], offset, maxPrompt, 1L);
        }
        List<List<Long>> generated = new ArrayList<>();
        List<List<float[]>> logitsKept = new ArrayList<>();
        String[] finish = new String[batch];
        String[] texts = new String[batch];
        SplittableRandom[] rngs = new SplittableRandom[batch];
        for (int b = 0; b < batch; b++) {
            generated.add(new ArrayList<>());
            logitsKept.add(new ArrayList<>());
            rngs[b] = new SplittableRandom(rowSeeds[b]);
        }
        long prefillNanos = 0;
        long decodeNanos = 0;
        int decodeSteps = 0;
        int decodeTokens = 0;
        int vocab = model.config().vocabSize();
        try (NDManager genManager = model.manager().newSubManager();
             KvCache cache = model.newCache(batch, Math.max(capacity, 1))) {
            // decode steps read their attention bias from one engine-side row per sequence, made once by
            // attentionBias over the prompt's padding with every later position real; finished rows (whose
            // output is dropped) thus keep attending to their pads, the others see exactly the host mask
            NDArray decodeBias;
            long[] nextPosition = new long[batch];
            try (NDScope scope = new NDScope()) {
                long[] full = new long[batch * Math.max(capacity, 1)];
                for (int b = 0; b < batch; b++) {
                    System.arraycopy(mask[b], 0, full, b * capacity, maxPrompt);
                    Arrays.fill(full, b * capacity + maxPrompt, (b + 1) * capacity, 1L);
                    nextPosition[b] = prompts.get(b).length; // cumsum(mask) - 1 at the first new token
                }
                NDArray fm = genManager.create(full, new Shape(batch, Math.max(capacity, 1)));
                decodeBias = ai.loro.core.model.LlamaMath.attentionBias(fm, Math.max(capacity, 1) - 1, 1, model.dtype());
                NDScope.unregister(decodeBias);
            }
            long[] stepIds = promptIds;
            int stepLen = maxPrompt;
            for (int step = 0; step < params.maxNewTokens(); step++) {
                long start = System.nanoTime();
                float[] last;
                long[] greedyIds = null;
                int total = cache.length() + stepLen;
                try (NDScope scope = new NDScope(); NDManager sm = genManager.newSubManager()) {
                    scope.suppressNotUsedWarning();
                    NDArray ids = sm.create(stepIds, new Shape(batch, stepLen));
                    NDArray hidden;
                    if (step == 0) {
                        long[] flatMask = new long[batch * total];
                        for (int b = 0; b < batch; b++) {
                            System.arraycopy(mask[b], 0, flatMask, b * total, total);
                        }
                        hidden = model.hiddenStates(ids, sm.create(flatMask, new Shape(batch, total)), cache); // (B, T, H)
                    } else {
                        long maxPos = 0;
                        for (long p : nextPosition) {
                            maxPos = Math.max(maxPos, p);
                        }
                        NDArray pos = sm.create(nextPosition.clone(), new Shape(batch, 1));
                        NDArray bias = decodeBias.get(new NDIndex("..., :{}", total)); // (B, 1, 1, S)
                        hidden = model.hiddenStates(ids, pos, maxPos, bias, cache);
                        for (int b = 0; b < batch; b++) {
                            nextPosition[b]++;
                        }
                    }
                    NDArray lastHidden = hidden.get(new NDIndex(":, -1:, :")); // (B, 1, H)
                    NDArray logits = model.logits(lastHidden); // (B, 1, V)
                    if (params.greedy() && !keepLogits) {
                        // argmax on the engine (first index on ties, as Sampler.argmax): only B ids cross to Java
                        greedyIds = logits.argMax(2).toLongArray();
                        last = null;
                    } else {
                        last = logits.toType(DataType.FLOAT32, false).toFloatArray(); // (B·V)
                    }
                }
                long elapsed = System.nanoTime() - start;
                if (step == 0) {
                    prefillNanos = elapsed;
                } else {
                    decodeNanos += elapsed;
                    decodeSteps++;
                }
                long[] next = new long[batch];
                boolean allDone = true;
                for (int b = 0; b < batch; b++) {
                    if (finish[b] != null) {
                        next[b] = padId;
                        continue;
                    }
                    if (step > 0) {
                        decodeTokens++;
                    }
                    int token;
                    if (last == null) {
                        token = (int) greedyIds[b];
                    } else {
                        float[] row = Arrays.copyOfRange(last, b * vocab, (b + 1) * vocab);
                        if (keepLogits) {
                            logitsKept.get(b).add(row);
                        }
                        token = Sampler.sample(row, params, rngs[b]);
                    }
                    generated.get(b).add((long) token);
                    next[b] = token;
                    mask[b][total] = 1L;
                    if (params.stopOnEos() && eosIds.contains((long) token)) {
                        finish[b] = "eos";
                    } else if (!params.stopStrings().isEmpty()) {
                        String text = decoder.apply(toArray(generated.get(b)));
                        for (String stop : params.stopStrings()) {
                            int at = text.indexOf(stop);
                            if (at >= 0) {
                                finish[b] = "stop";
                                texts[b] = text.substring(0, at);
                                break;
                            }
                        }
                    }
                    if (finish[b] == null) {
                        allDone = false;
                    }
                }
                if (allDone) {
                    break;
                }
                stepIds = next;
                stepLen = 1;
            }
        }
        lastTiming = new Timing(prefillNanos, batch * maxPrompt, decodeNanos, decodeSteps, decodeTokens);
        List<Result> results = new ArrayList<>();
        for (int b = 0; b < batch; b++) {
            long[] tokens = toArray(generated.get(b));
            String reason = finish[b] == null ? "length" : finish[b];
            String text = texts[b];
            if (text == null && decoder != null) {
                long[] shown = reason.equals("eos") ? Arrays.copyOf(tokens, tokens.length - 1) : tokens;
                text = decoder.apply(shown);
            }
            float[][] kept = keepLogits ? logitsKept.get(b).toArray(new float[0][]) : null;
            results.add(new Result(tokens, text, reason, kept));
        }
        return results;
    }

    private static long[] toArray(List<Long> list) {
        long[] a = new long[list.size()];
        for (int i = 0; i < a.length; i++) {
            a[i] = list.get(i);
        }
        return a;
    }
}
