package ai.loro.core.model;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.ndarray.types.SparseFormat;
import ai.djl.nn.core.Embedding;
import ai.djl.nn.core.Linear;
import ai.djl.pytorch.jni.JniUtils;
import ai.loro.core.LoroException;
import ai.loro.core.loss.LossOps;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.Function;

/**
 * A Llama-class causal LM (LlamaForCausalLM and the same-math Mistral/Qwen2 variants). It holds
 * parameters under their Hugging Face names; the math lives in {@link LlamaMath}.
 */
public final class LlamaModel implements AutoCloseable {
    /** The parameters of one decoder layer. */
    public record Layer(NDArray inputNorm, Projection q, Projection k, Projection v, Projection o,
                        NDArray postNorm, Projection gate, Projection up, Projection down) {
        public Projection projection(HfNames.Proj p) {
            return switch (p) {
                case Q -> q;
                case K -> k;
                case V -> v;
                case O -> o;
                case GATE -> gate;
                case UP -> up;
                case DOWN -> down;
            };
        }
    }

    private final LlamaConfig config;
    private final NDManager manager;
    private final DataType dtype;
    private final Map<String, NDArray> parameters; // HF name → array, transformers' order
    private final NDArray embed; // (V, H)
    private final Layer[] layers;
    private final NDArray finalNorm; // (H)
    private final NDArray lmHead; // (V, H); the embedding itself when tied; null for a sequence classifier
    private final NDArray score; // (labels, H) for a sequence classifier, else null
    private final Rope rope;
    private boolean adaptersEnabled = true;
    private boolean gradientCheckpointing;
    private int logitsChunkTokens; // tokens per LM-head chunk when checkpointing; 0 = about 128 MB of fp32 logits

    private LlamaModel(LlamaConfig config, NDManager manager, DataType dtype, Map<String, NDArray> parameters) {
        this.config = config;
        this.manager = manager;
        this.dtype = dtype;
        this.parameters = parameters;
        this.embed = parameters.get(HfNames.EMBED);
        this.finalNorm = parameters.get(HfNames.FINAL_NORM);
        this.lmHead = config.isSequenceClassifier() ? null
                : config.tieWordEmbeddings() ? embed : parameters.get(HfNames.LM_HEAD);
        this.score = parameters.get(HfNames.SCORE);
        this.layers = new Layer[config.numHiddenLayers()];
        for (int l = 0; l < layers.length; l++) {
            Projection[] p = new Projection[HfNames.Proj.values().length];
            for (HfNames.Proj proj : HfNames.Proj.values()) {
                p[proj.ordinal()] = new Projection(HfNames.module(l, proj), parameters.get(HfNames.weight(l, proj)),
                        proj.hasBias(config) ? parameters.get(HfNames.bias(l, proj)) : null);
            }
            layers[l] = new Layer(parameters.get(HfNames.inputNorm(l)), p[0], p[1], p[2], p[3],
                    parameters.get(HfNames.postAttentionNorm(l)), p[4], p[5], p[6]);
        }
        this.rope = new Rope(config, manager, dtype);
    }

    /**
     * Builds a model whose every expected tensor comes from {@code source} (name → array on the
     * given manager), checking each shape against the config.
     */
    public static LlamaModel create(LlamaConfig config, DataType dtype, Device device,
                                    Function<String, NDArray> sourceForName, NDManager manager) {
        Map<String, NDArray> params = new LinkedHashMap<>();
        for (Map.Entry<String, long[]> e : HfNames.expectedTensors(config).entrySet()) {
            NDArray a = sourceForName.apply(e.getKey());
            if (!Arrays.equals(a.getShape().getShape(), e.getValue())) {
                throw new LoroException("tensor " + e.getKey() + " has shape " + a.getShape() + " but config.json implies "
                        + new Shape(e.getValue()));
            }
            // parameters live in libtorch's own 64-byte-aligned storage, never in a Java buffer: kernels pick
            // code paths by alignment, and equal alignment is what makes runs reproducible bit for bit
            NDArray owned = a.duplicate();
            a.close();
            owned.setName(e.getKey());
            params.put(e.getKey(), owned);
        }
        return new LlamaModel(config, manager, dtype, params);
    }

    /** Loads a Hugging Face checkpoint directory (config.json + safetensors), widening to {@code dtype}. */
    public static LlamaModel load(Path dir, DataType dtype, Device device) {
        return ModelLoader.load(dir, LlamaConfig.read(dir), dtype, device, null);
    }

    /**
     * Loads a causal-LM (or classifier) checkpoint as a sequence classifier with {@code numLabels}
     * outputs: the backbone from the checkpoint, the {@code score} head from the checkpoint when it
     * has one of that shape, else initialised as transformers does (N(0, initializer_range)).
     */
    public static LlamaModel loadAsClassifier(Path dir, int numLabels, long seed, DataType dtype, Device device) {
        LlamaConfig base = LlamaConfig.read(dir);
        LlamaConfig config = base.asSequenceClassifier(numLabels);
        boolean hasScore = base.isSequenceClassifier() && base.numLabels() == numLabels;
        Map<String, float[]> fresh = hasScore ? Map.of() : Map.of(HfNames.SCORE, ModelInit.randomWeights(config, seed).get(HfNames.SCORE));
        return ModelLoader.load(dir, config, dtype, device, fresh);
    }

    /** A model with the given host weights (HF names → row-major floats), e.g. from {@link ModelInit}. */
    public static LlamaModel fromHost(LlamaConfig config, Map<String, float[]> weights, DataType dtype, Device device) {
        return ModelLoader.fromHost(config, weights, dtype, device);
    }

    public LlamaConfig config() {
        return config;
    }

    public DataType dtype() {
        return dtype;
    }

    public NDManager manager() {
        return manager;
    }

    /** All parameters by HF name in transformers' state-dict order (no lm_head when tied); quantized projection weights are absent ({@link QuantizedBase}). */
    public Map<String, NDArray> parameters() {
        return java.util.Collections.unmodifiableMap(parameters);
    }

    /** Forgets a parameter whose array its holder has replaced, e.g. a weight {@link QuantizedBase#quantize} froze. */
    void dropParameter(String name) {
        parameters.remove(name);
    }

    public Layer layer(int l) {
        return layers[l];
    }

    /** Switch adapters (projection deltas) on or off, e.g. off to get the reference model. */
    public void setAdaptersEnabled(boolean enabled) {
        this.adaptersEnabled = enabled;
    }

    public boolean adaptersEnabled() {
        return adaptersEnabled;
    }

    /** {@code body}'s result computed with the adapters off (the reference model), the previous state restored. */
    public <T> T withAdaptersOff(java.util.function.Supplier<T> body) {
        boolean previous = adaptersEnabled;
        adaptersEnabled = false;
        try {
            return body.get();
        } finally {
            adaptersEnabled = previous;
        }
    }

    /**
     * Activation checkpointing (Chen et al. 2016, "Training Deep Nets with Sublinear Memory Cost";
     * transformers' {@code gradient_checkpointing}): a forward pass under autograd keeps only each
     * decoder layer's input (B, T, H) and re-runs one layer at a time during the backward pass, which
     * {@link ActivationCheckpoints#backward()} completes after the loss's backward. Costs one more
     * forward pass of the layers; saves all but one layer's activations.
     */
    public void setGradientCheckpointing(boolean on) {
        this.gradientCheckpointing = on;
    }

    public boolean gradientCheckpointing() {
        return gradientCheckpointing;
    }

    /**
     * With gradient checkpointing: how many token positions share one LM-head chunk in
     * {@link #tokenLogProbsFromHidden}; 0 (the default) picks about 128 MB of fp32 logits per chunk.
     */
    public void setLogitsChunkTokens(int tokens) {
        if (tokens < 0) {
            throw new IllegalArgumentException("chunk tokens must be >= 0, got " + tokens);
        }
        this.logitsChunkTokens = tokens;
    }

    /**
     * Final-norm hidden states.
     *
     * @param inputIds (B, T) int64 token ids of the new tokens
     * @param mask (B, past + T) 1 = token, 0 = padding, or null for no padding
     * @param cache the KV cache to read and extend, or null for a full forward pass
     * @return (B, T, H)
     */
    public NDArray hiddenStates(NDArray inputIds, NDArray mask, KvCache cache) {
        long[] shape = inputIds.getShape().getShape();
        int batch = (int) shape[0];
        int t = (int) shape[1];
        int past = cache == null ? 0 : cache.length();
        int total = past + t;
        checkWindow(total);
        NDManager m = inputIds.getManager();
        if (mask == null) {
            mask = m.ones(new Shape(batch, total), DataType.INT64);
        } else if (mask.getShape().get(0) != batch || mask.getShape().get(1) != total) {
            throw new IllegalArgumentException("mask shape " + mask.getShape() + " != (" + batch + ", " + total + ")");
        }
        NDArray positions = LlamaMath.positionsFromMask(mask, t); // (B, T)
        NDArray bias = LlamaMath.attentionBias(mask, past, t, dtype); // (B, 1, T, S)
        return decoder(inputIds, positions, total - 1, bias, cache);
    }

    /**
     * Final-norm hidden states from positions and an attention bias the caller already holds, e.g. a
     * decode step that keeps both on the engine instead of rebuilding them from a host mask
     * (docs/decode-profile.md).
     *
     * @param inputIds (B, T) int64
     * @param positions (B, T) int64 position of each new token
     * @param maxPosition the largest value in {@code positions}
     * @param bias (B, 1, T, past + T) additive attention bias, as {@link LlamaMath#attentionBias}
     * @return (B, T, H)
     */
    public NDArray hiddenStates(NDArray inputIds, NDArray positions, long maxPosition, NDArray bias, KvCache cache) {
        int past = cache == null ? 0 : cache.length();
        checkWindow(past + (int) inputIds.getShape().get(1));
        return decoder(inputIds, positions, maxPosition, bias, cache);
    }

    /**
     * Hidden states of packed rows: several examples concatenated in one row, each restarting its
     * positions and attending only to itself (sample packing without cross-contamination).
     *
     * @param inputIds (B, T)
     * @param segmentIds (B, T) 1, 2, ... per example, 0 for padding
     * @param positionIds (B, T) position of each token inside its own example
     * @return (B, T, H)
     */
    public NDArray hiddenStatesPacked(NDArray inputIds, NDArray segmentIds, NDArray positionIds) {
        checkWindow((int) inputIds.getShape().get(1));
        NDArray bias = LlamaMath.packedAttentionBias(segmentIds, dtype); // (B, 1, T, T)
        long maxPosition = positionIds.max().getLong();
        return decoder(inputIds, positionIds, maxPosition, bias, null);
    }

    private void checkWindow(int total) {
        if (config.slidingWindow() > 0 && total > config.slidingWindow()) {
            throw new LoroException("sequence length " + total + " exceeds the model's sliding_window "
                    + config.slidingWindow() + " (sliding-window attention is not supported)");
        }
    }

    private NDArray decoder(NDArray inputIds, NDArray positions, long maxPosition, NDArray bias, KvCache cache) {
        NDArray[] cosSin = rope.cosSin(positions, maxPosition); // (B, 1, T, D) each
        if (gradientCheckpointing && cache == null && JniUtils.isGradMode() && layersTrain()) {
            return Checkpointed.decoder(this, inputIds, cosSin[0], cosSin[1], bias);
        }
        NDArray x = embedding(inputIds); // (B, T, H)
        for (int l = 0; l < layers.length; l++) {
            x = decoderLayer(l, x, cosSin[0], cosSin[1], bias, cache);
        }
        if (cache != null) {
            cache.advance((int) inputIds.getShape().get(1));
        }
        return LlamaMath.rmsNorm(x, finalNorm, config.rmsNormEps());
    }

    /** Whether a backward pass reaches a parameter inside the decoder layers (else there is nothing to checkpoint). */
    private boolean layersTrain() {
        return lowestTrainingLayer() < layers.length;
    }

    /**
     * The lowest decoder layer with a parameter that receives gradients: -1 when the embedding
     * trains, the layer count when nothing does. (Parameters are leaves, for which DJL's
     * {@code hasGradient} is libtorch's {@code requires_grad}; for op results it is not reliable.)
     */
    int lowestTrainingLayer() {
        if (embed.hasGradient()) {
            return -1;
        }
        for (int l = 0; l < layers.length; l++) {
            Layer layer = layers[l];
            if (layer.inputNorm().hasGradient() || layer.postNorm().hasGradient()) {
                return l;
            }
            for (HfNames.Proj p : HfNames.Proj.values()) {
                if (layer.projection(p).trainable(adaptersEnabled)) {
                    return l;
                }
            }
        }
        return layers.length;
    }

    NDArray embedding(NDArray inputIds) { // (B, T) → (B, T, H)
        return Embedding.embedding(inputIds, embed, SparseFormat.DENSE).singletonOrThrow();
    }

    NDArray decoderLayer(int l, NDArray x, NDArray cos, NDArray sin, NDArray bias, KvCache cache) {
        Layer p = layers[l];
        double eps = config.rmsNormEps();
        NDArray h = LlamaMath.rmsNorm(x, p.inputNorm(), eps); // (B, T, H)
        NDArray q = LlamaMath.splitHeads(p.q().apply(h, adaptersEnabled), config.numAttentionHeads(), config.headDim());
        NDArray k = LlamaMath.splitHeads(p.k().apply(h, adaptersEnabled), config.numKeyValueHeads(), config.headDim());
        NDArray v = LlamaMath.splitHeads(p.v().apply(h, adaptersEnabled), config.numKeyValueHeads(), config.headDim());
        q = LlamaMath.applyRope(q, cos, sin); // (B, H, T, D)
        k = LlamaMath.applyRope(k, cos, sin); // (B, KV, T, D)
        if (cache != null) {
            NDArray[] kv = cache.append(l, k, v); // (B, KV, S, D)
            k = kv[0];
            v = kv[1];
        }
        NDArray attn = LlamaMath.mergeHeads(LlamaMath.attention(q, k, v, bias)); // (B, T, H·D)
        x = x.add(p.o().apply(attn, adaptersEnabled));
        h = LlamaMath.rmsNorm(x, p.postNorm(), eps);
        NDArray gated = LlamaMath.silu(p.gate().apply(h, adaptersEnabled)).mul(p.up().apply(h, adaptersEnabled)); // (B, T, I)
        return x.add(p.down().apply(gated, adaptersEnabled));
    }

    /** Vocabulary logits from hidden states: (B, T, H) → (B, T, V). */
    public NDArray logits(NDArray hidden) {
        if (lmHead == null) {
            throw new IllegalStateException(config.architecture() + " has no LM head");
        }
        return Linear.linear(hidden, lmHead).singletonOrThrow();
    }

    /**
     * Sequence-classifier scores (rewards when there is one label), read at each row's last real
     * token — the rightmost position whose mask is 1, which handles left and right padding alike
     * (docs/llama-math.md, "Sequence classification").
     *
     * @param hidden (B, T, H) final-norm hidden states
     * @param mask (B, T) 1 = token, 0 = padding
     * @return (B, labels)
     */
    public NDArray classify(NDArray hidden, NDArray mask) {
        if (score == null) {
            throw new IllegalStateException(config.architecture() + " has no score head");
        }
        long t = mask.getShape().get(1);
        NDManager m = mask.getManager();
        // one-hot of argmax(arange(T) · mask) along T, as (B, 1, T), then a batched matmul picks the row
        NDArray rank = mask.toType(DataType.INT64, false).mul(m.arange(1, (int) t + 1, 1, DataType.INT64)); // (B, T)
        NDArray last = rank.argMax(1).expandDims(1); // (B, 1)
        NDArray onehot = m.arange(0, (int) t, 1, DataType.INT64).reshape(1, t).eq(last)
                .toType(hidden.getDataType(), false).expandDims(1); // (B, 1, T)
        NDArray pooled = onehot.matMul(hidden).squeeze(1); // (B, H)
        return LossOps.widen(Linear.linear(pooled, score).singletonOrThrow()); // fp32 scores from an fp16 model
    }


    /**
     * {@code out[b, t] = log p(ids[b, t+1] | ids[b, ..t])} from final-norm hidden states, in at least fp32.
     * With gradient checkpointing, under autograd, the (B, T, V) logits never exist at once: the
     * positions go through the LM head and log-softmax in chunks without autograd, the result is a
     * leaf, and after the loss's backward pass {@link ActivationCheckpoints#backward()} re-runs each
     * chunk under autograd with its slice of the upstream gradient, then carries the accumulated
     * gradient of the hidden states into the layers below.
     *
     * @param hidden (B, T, H)
     * @param inputIds (B, T)
     * @return (B, T-1)
     */
    public NDArray tokenLogProbsFromHidden(NDArray hidden, NDArray inputIds) {
        boolean belowTrains = lowestTrainingLayer() < layers.length || finalNorm.hasGradient(); // hidden has a graph
        if (!(gradientCheckpointing && JniUtils.isGradMode()) || !(belowTrains || lmHead.hasGradient())) {
            return nextTokenLogProbs(logits(hidden), inputIds);
        }
        long chunk = logitsChunkTokens > 0 ? logitsChunkTokens : Math.max(16, (1L << 25) / config.vocabSize());
        return Checkpointed.tokenLogProbs(this, hidden, inputIds, chunk, belowTrains);
    }

    NDArray finalNorm() {
        return finalNorm;
    }

    Rope rope() {
        return rope;
    }

    /** {@link #hiddenStates} followed by the LM head: (B, T, V). */
    public NDArray forward(NDArray inputIds, NDArray mask, KvCache cache) {
        return logits(hiddenStates(inputIds, mask, cache));
    }

    /**
     * {@code out[b, t] = log p(ids[b, t+1] | ids[b, ..t])}, computed in at least fp32.
     *
     * @param inputIds (B, T)
     * @param mask (B, T) or null
     * @return (B, T-1)
     */
    public NDArray tokenLogProbs(NDArray inputIds, NDArray mask) {
        return tokenLogProbsFromHidden(hiddenStates(inputIds, mask, null), inputIds);
    }

    /**
     * {@code out[b, t] = log_softmax(logits[b, t])[ids[b, t+1]]}, in at least fp32.
     *
     * @param logits (B, T, V)
     * @param inputIds (B, T)
     * @return (B, T-1)
     */
    public static NDArray nextTokenLogProbs(NDArray logits, NDArray inputIds) {
        long t = inputIds.getShape().get(1);
        logits = LossOps.widen(logits); // fp16 → fp32, differentiably
        // log-softmax over the contiguous logits, then drop the last position (it predicts nothing)
        NDArray logp = logits.logSoftmax(-1).get(new NDIndex(":, :{}", t - 1)); // (B, T-1, V)
        NDArray next = inputIds.get(new NDIndex(":, 1:")).expandDims(-1); // (B, T-1, 1)
        return logp.gather(next, -1).squeeze(-1);
    }

    /** A KV cache sized for this model. */
    public KvCache newCache(int batch, int capacity) {
        return new KvCache(config, batch, capacity, manager, dtype);
    }

    /** Rejects ids outside the vocabulary before they reach the embedding kernel. */
    public void checkTokenIds(long[] ids, String where) {
        for (int i = 0; i < ids.length; i++) {
            if (ids[i] < 0 || ids[i] >= config.vocabSize()) {
                throw new LoroException(where + ": token id " + ids[i] + " at index " + i
                        + " is outside the vocabulary [0, " + config.vocabSize() + ")");
            }
        }
    }

    @Override
    public void close() {
        manager.close();
    }
}
