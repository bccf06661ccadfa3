package ai.loro.core.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDScope;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.pytorch.engine.PtNDArray;
import ai.djl.pytorch.jni.JniUtils;
import ai.loro.core.loss.LossOps;

/**
 * Activation checkpointing for {@link LlamaModel} (Chen et al. 2016, "Training Deep Nets with
 * Sublinear Memory Cost"), built by hand since DJL has no checkpoint API. Each forward half runs
 * without autograd and leaves a segment in {@link ActivationCheckpoints}; after the loss's backward
 * pass the segment re-runs its part under autograd and back-propagates the saved upstream gradient
 * with {@code JniUtils.backward(output, gradient)} (a vector-Jacobian product). Two parts:
 * the decoder layers (one layer's activations alive at a time) and the LM head with log-softmax
 * (one chunk of logits alive at a time).
 */
final class Checkpointed {
    private Checkpointed() {}

    // ---------------------------------------------------------------- decoder layers

    /**
     * The forward half of a checkpointed decoder: the layers run with autograd off, each in its own
     * scope so that only its output (the next layer's input) survives; the final norm runs under
     * autograd on a leaf copy of the last output.
     *
     * @return (B, T, H) final-norm hidden states
     */
    static NDArray decoder(LlamaModel model, NDArray inputIds, NDArray cos, NDArray sin, NDArray bias) {
        int layers = model.config().numHiddenLayers();
        NDArray[] inputs = new NDArray[layers + 1]; // inputs[l] (B, T, H) enters layer l; inputs[L] leaves the last
        Object[][] randomStates = new Object[layers][];
        try (NoGrad ng = new NoGrad()) {
            inputs[0] = model.embedding(inputIds);
            for (int l = 0; l < layers; l++) {
                randomStates[l] = randomStates(model, l);
                try (NDScope scope = new NDScope()) {
                    scope.suppressNotUsedWarning();
                    inputs[l + 1] = model.decoderLayer(l, inputs[l], cos, sin, bias, null);
                    NDScope.unregister(inputs[l + 1]);
                }
            }
        }
        NDArray top = inputs[layers];
        top.setRequiresGradient(true);
        ActivationCheckpoints.push(new LayersPass(model, inputIds, inputs, randomStates, cos, sin, bias));
        return LlamaMath.rmsNorm(top, model.finalNorm(), model.config().rmsNormEps());
    }

    /** Where each projection delta of layer l draws its next dropout mask from. */
    private static Object[] randomStates(LlamaModel model, int l) {
        HfNames.Proj[] all = HfNames.Proj.values();
        Object[] states = new Object[all.length];
        for (HfNames.Proj p : all) {
            Projection.Delta d = model.layer(l).projection(p).delta();
            states[p.ordinal()] = d == null ? null : d.randomState();
        }
        return states;
    }

    private static void restoreRandomStates(LlamaModel model, int l, Object[] states) {
        for (HfNames.Proj p : HfNames.Proj.values()) {
            Projection.Delta d = model.layer(l).projection(p).delta();
            if (d != null) {
                d.restoreRandomState(states[p.ordinal()]);
            }
        }
    }

    /** The saved half of a checkpointed decoder pass. */
    private static final class LayersPass implements ActivationCheckpoints.Segment {
        private final LlamaModel model;
        private final NDArray inputIds; // (B, T)
        private final NDArray[] inputs; // (B, T, H) per layer, plus the last layer's output
        private final Object[][] randomStates;
        private final NDArray cos;
        private final NDArray sin;
        private final NDArray bias;
        private final boolean adapters;

        LayersPass(LlamaModel model, NDArray inputIds, NDArray[] inputs, Object[][] randomStates, NDArray cos, NDArray sin,
                   NDArray bias) {
            this.model = model;
            this.inputIds = inputIds;
            this.inputs = inputs;
            this.randomStates = randomStates;
            this.cos = cos;
            this.sin = sin;
            this.bias = bias;
            this.adapters = model.adaptersEnabled();
        }

        /**
         * Layer by layer from the top: re-run layer l under autograd from its saved input (with the
         * same dropout masks), then back-propagate the gradient of its output, which accumulates the
         * layer's parameter gradients and yields the gradient of its input for layer l-1. Stops below
         * the lowest layer that trains; ends in the embedding when it trains.
         */
        @Override
        public void backward() {
            int layers = inputs.length - 1;
            boolean savedAdapters = model.adaptersEnabled();
            model.setAdaptersEnabled(adapters);
            NDArray grad = JniUtils.getGradient((PtNDArray) inputs[layers]); // (B, T, H)
            try {
                int lowest = model.lowestTrainingLayer(); // below it no gradient is needed
                for (int l = layers - 1; l >= Math.max(lowest, 0) && grad != null; l--) {
                    inputs[l + 1].close();
                    boolean needInputGrad = l > lowest;
                    NDArray next = null;
                    try (NDScope scope = new NDScope()) {
                        scope.suppressNotUsedWarning();
                        if (needInputGrad) {
                            inputs[l].setRequiresGradient(true);
                        }
                        restoreRandomStates(model, l, randomStates[l]);
                        NDArray out = model.decoderLayer(l, inputs[l], cos, sin, bias, null);
                        JniUtils.backward((PtNDArray) out, (PtNDArray) grad, false, false);
                        if (needInputGrad) {
                            next = inputs[l].getGradient();
                            NDScope.unregister(next);
                        }
                    }
                    grad.close();
                    grad = next;
                }
                if (grad != null && lowest < 0) { // the embedding trains
                    try (NDScope scope = new NDScope()) {
                        scope.suppressNotUsedWarning();
                        JniUtils.backward((PtNDArray) model.embedding(inputIds), (PtNDArray) grad, false, false);
                    }
                }
            } finally {
                if (grad != null) {
                    grad.close();
                }
                model.setAdaptersEnabled(savedAdapters);
                discard();
            }
        }

        @Override
        public void discard() {
            for (NDArray a : inputs) {
                if (a != null && !a.isReleased()) {
                    a.close();
                }
            }
        }
    }

    // ---------------------------------------------------------------- LM head and log-softmax

    /**
     * {@code out[b, t] = log p(ids[b, t+1] | ids[b, ..t])} without the (B, T, V) logits ever existing
     * at once: the positions go through the LM head and log-softmax in chunks of {@code chunk}
     * without autograd, and the result is a leaf; the segment left behind re-runs each chunk under
     * autograd with its slice of the upstream gradient, then carries the accumulated gradient of the
     * hidden states into whatever produced them (when {@code hiddenHasGraph}).
     *
     * @param hidden (B, T, H)
     * @param inputIds (B, T)
     * @return (B, T-1), fp32
     */
    static NDArray tokenLogProbs(LlamaModel model, NDArray hidden, NDArray inputIds, long chunk, boolean hiddenHasGraph) {
        long b = inputIds.getShape().get(0);
        long t = inputIds.getShape().get(1);
        NDArray leaf = hidden.stopGradient(); // (B, T, H), shares storage
        leaf.setRequiresGradient(true);
        NDArray flatLogp;
        try (NoGrad ng = new NoGrad()) {
            flatLogp = chunkedLogProbs(model, leaf, inputIds, chunk); // (B·(T-1))
        }
        NDArray logp = flatLogp.reshape(b, t - 1);
        logp.setRequiresGradient(true);
        ActivationCheckpoints.push(new ActivationCheckpoints.Segment() {
            @Override
            public void backward() {
                NDArray g = JniUtils.getGradient((PtNDArray) logp);
                if (g == null) {
                    return;
                }
                try (NDScope scope = new NDScope()) {
                    scope.suppressNotUsedWarning();
                    NDArray flat = g.reshape(-1); // (B·(T-1))
                    long n = flat.getShape().get(0);
                    for (long from = 0; from < n; from += chunk) {
                        long to = Math.min(n, from + chunk);
                        try (NDScope inner = new NDScope()) {
                            inner.suppressNotUsedWarning();
                            NDArray part = chunkLogProbs(model, leaf, inputIds, from, to); // (to - from), under autograd
                            JniUtils.backward((PtNDArray) part, (PtNDArray) flat.get(new NDIndex("{}:{}", from, to)), false, false);
                        }
                    }
                    if (hiddenHasGraph) {
                        JniUtils.backward((PtNDArray) hidden, (PtNDArray) leaf.getGradient(), false, false);
                    }
                }
            }

            @Override
            public void discard() {}
        });
        return logp;
    }

    private static NDArray chunkedLogProbs(LlamaModel model, NDArray hidden, NDArray inputIds, long chunk) { // → (B·(T-1))
        long n = inputIds.getShape().get(0) * (inputIds.getShape().get(1) - 1);
        NDList parts = new NDList();
        for (long from = 0; from < n; from += chunk) {
            try (NDScope scope = new NDScope()) { // the chunk's logits die here; only its log-probs survive
                scope.suppressNotUsedWarning();
                NDArray part = chunkLogProbs(model, hidden, inputIds, from, Math.min(n, from + chunk));
                NDScope.unregister(part);
                parts.add(part);
            }
        }
        return parts.size() == 1 ? parts.get(0) : NDArrays.concat(parts);
    }

    /** Log-probs of next-token positions [from, to) of the flattened (B·(T-1)) predictions. */
    private static NDArray chunkLogProbs(LlamaModel model, NDArray hidden, NDArray inputIds, long from, long to) {
        long h = hidden.getShape().get(2);
        long t = inputIds.getShape().get(1);
        NDArray states = hidden.get(new NDIndex(":, :{}", t - 1)).reshape(-1, h).get(new NDIndex("{}:{}", from, to)); // (N, H)
        NDArray next = inputIds.get(new NDIndex(":, 1:")).reshape(-1).get(new NDIndex("{}:{}", from, to)).expandDims(-1); // (N, 1)
        NDArray logp = LossOps.widen(model.logits(states)).logSoftmax(-1); // (N, V)
        return logp.gather(next, -1).squeeze(-1);
    }
}
