package ai.loro.dpo;

import ai.loro.core.LoroException;
import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.loro.core.loss.LossOps;
import ai.loro.core.model.LlamaModel;
import ai.loro.core.recipe.Recipe;
import ai.loro.core.tokenizer.LoroTokenizer;
import ai.loro.core.train.EpochCursor;
import ai.loro.core.train.EvalLoss;
import ai.loro.core.train.MicroBatchLoss;
import ai.loro.core.train.RecipeTraining;
import ai.loro.core.train.StageResult;
import ai.loro.core.train.TrainLoop;
import ai.loro.datasets.Batch;
import ai.loro.datasets.PreferenceBatch;
import ai.loro.datasets.PreferenceData;
import ai.loro.lora.LoraAdapter;
import ai.loro.lora.RecipeAdapters;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;

/**
 * Direct preference optimisation (Rafailov et al. 2023) and its variants (cDPO, IPO, hinge,
 * robust, RPO's NLL term): setup (pairs, policy = base + LoRA, reference = the same model with the
 * adapter switched off, or a separate reference checkpoint), train (the shared loop with
 * {@link DpoLoss}), save (PEFT adapter, optionally merged; or the full model).
 */
public final class DpoStage {
    private DpoStage() {}

    /** Where the run's artifacts are: {@code adapter} (and {@code merged}) with LoRA, else {@code model}. */
    public static StageResult run(Recipe r, PrintStream log) {
        RecipeTraining.prepareOutput(r);
        DpoConfig cfg = r.block(DpoConfig.BLOCK);
        DpoLoss.Options options = new DpoLoss.Options(cfg.beta(), cfg.lossType(), cfg.labelSmoothing(),
                cfg.rpoAlpha().isPresent() ? cfg.rpoAlpha().getAsDouble() : null);
        // ---- setup
        try (LoroTokenizer tokenizer = LoroTokenizer.load(r.baseModel())) {
            PreferenceData data = PreferenceData.load(r, tokenizer, log);
            Device device = RecipeTraining.device(r);
            boolean lora = r.adapter().type() == Recipe.AdapterType.LORA;
            // the reference: the base itself with the adapter off (no second copy), unless one is named;
            // full fine-tuning changes the base, so it needs its own frozen copy
            // (none is loaded when dpo.reference_log_probs names a folder of precomputed ones)
            Path refPath = referenceLogProbs(r).isPresent() ? null : cfg.referenceModel().orElse(lora ? null : r.baseModel());
            // quantize, gradient_checkpointing: before the adapter attaches
            try (LlamaModel policy = RecipeTraining.prepared(LlamaModel.load(r.baseModel(), RecipeTraining.computeDtype(r), device),
                         r, log);
                 LlamaModel reference = refPath == null ? null : LlamaModel.load(refPath, RecipeTraining.computeDtype(r), device);
                 LoraAdapter adapter = RecipeAdapters.attach(policy, r)) {
                Map<String, NDArray> trainable = lora ? adapter.parameters() : new LinkedHashMap<>(policy.parameters());
                ReferenceLogProbsFolder precomputed = referenceLogProbs(r).map(ReferenceLogProbsFolder::read).orElse(null);
                if (precomputed != null) {
                    if (r.datasets().size() != 1) {
                        throw new LoroException("dpo.reference_log_probs reads the rows of one pairs file: the recipe lists "
                                + r.datasets().size() + " data sets (give one)");
                    }
                    precomputed.checkAll(data.trainPairs());
                    log.printf("reference log-probs: read from %s%n", referenceLogProbs(r).get());
                }
                RefLogProbs ref = new RefLogProbs(policy, reference, cfg.precomputeRefLogProbs(), precomputed);
                if (cfg.precomputeRefLogProbs() && precomputed == null) {
                    log.printf("reference log-probs: computed once per pair and cached (%d training pairs)%n",
                            data.trainPairs().size());
                }
                int steps = RecipeTraining.totalSteps(r, data.batchesPerEpoch());
                log.printf("DPO (%s, beta %s%s) on %s: %,d trainable parameters (%s), reference = %s; %d steps of %d x %d pairs%n",
                        options.type().trlName(), cfg.beta(), options.rpoAlpha() != null ? ", rpo_alpha " + options.rpoAlpha() : "",
                        r.baseModel().getFileName(), trainable.values().stream().mapToLong(p -> p.getShape().size()).sum(),
                        lora ? "LoRA r=" + r.adapter().r() : "full fine-tuning",
                        referenceLogProbs(r).isPresent() ? "read from " + referenceLogProbs(r).get()
                                : refPath == null ? "the base with the adapter off" : refPath.toString(), steps, r.gradientAccumulationSteps(),
                        r.microBatchSize());
                if (options.rpoAlpha() == null && options.type() == DpoLoss.Type.SIGMOID) {
                    log.println("note: plain sigmoid DPO can lower the chosen responses' likelihood until the policy collapses;"
                            + " watch logps/chosen, and set dpo.rpo_alpha (e.g. 1.0) for the robust RPO objective");
                }
                // ---- train
                EpochCursor<PreferenceBatch> cursor = new EpochCursor<>(data::epoch, data.batchesPerEpoch());
                MicroBatchLoss loss = (m, step, micro) -> {
                    PreferenceBatch b = cursor.next();
                    DpoLoss.Result res = pairLoss(policy, ref, b, m, options);
                    return new MicroBatchLoss.Result(LossOps.times(res.loss(), b.pairs()), b.pairs(), res.metrics());
                };
                EvalLoss eval = data.validation().isEmpty() ? null : (m, step) -> {
                    double sum = 0;
                    long pairs = 0;
                    Map<String, Double> metrics = new HashMap<>();
                    for (PreferenceBatch b : data.validation()) {
                        try (NDManager sm = m.newSubManager()) {
                            DpoLoss.Result res = pairLoss(policy, ref, b, sm, options);
                            sum += res.loss().toType(DataType.FLOAT64, false).getDouble() * b.pairs();
                            pairs += b.pairs();
                            int n = b.pairs();
                            res.metrics().forEach((k, v) -> metrics.merge(k, v * n, Double::sum));
                        }
                    }
                    long total = pairs;
                    metrics.replaceAll((k, v) -> v / total);
                    return new EvalLoss.Result(sum, pairs, metrics);
                };
                TrainLoop.Result result = RecipeTraining.train(r, steps, trainable, adapter, cursor, loss, eval);
                // ---- save
                RecipeAdapters.Saved saved = RecipeAdapters.saveCausalLm(r, policy, adapter, log);
                log.printf("done: %d steps, last train loss %.4f; %s%n", result.steps(), result.lastLoss(), saved.describe());
                return new StageResult(saved.adapter(), saved.model(), saved.merged(), result, Map.of());
            }
        }
    }

    /** {@code dpo.reference_log_probs}: a folder of precomputed reference log-probs, or empty (computed here). */
    static Optional<Path> referenceLogProbs(Recipe r) {
        return r.block(DpoConfig.BLOCK).referenceLogProbs();
    }

    /** The DPO loss of a pair batch (rows 0..P-1 chosen, P..2P-1 rejected). */
    static DpoLoss.Result pairLoss(LlamaModel policy, RefLogProbs ref, PreferenceBatch pb, NDManager m, DpoLoss.Options o) {
        Batch b = pb.batch();
        int rows = b.size();
        int t = b.length();
        int p = pb.pairs();
        NDArray ids = m.create(Batch.flat(b.inputIds()), new Shape(rows, t));
        NDArray mask = m.create(Batch.flat(b.attentionMask()), new Shape(rows, t));
        NDArray lossMask = m.create(b.nextTokenLossMask(), new Shape(rows, t - 1)); // (2P, T-1) response tokens
        NDArray lp = policy.tokenLogProbs(ids, mask); // (2P, T-1)
        NDArray seq = SequenceLogProbs.sum(lp, lossMask); // (2P)
        NDArray refSeq = ref.sequenceLogProbs(pb, ids, mask, lossMask); // (2P), no gradient
        NDArray lengths = lossMask.sum(new int[] {1}); // (2P)
        NDIndex chosen = new NDIndex("0:{}", p);
        NDIndex rejected = new NDIndex("{}:", p);
        NDArray nll = o.rpoAlpha() != null
                ? SequenceLogProbs.nll(lp.get(new NDIndex("0:{}, :", p)), lossMask.get(new NDIndex("0:{}, :", p))) : null;
        return DpoLoss.loss(seq.get(chosen), seq.get(rejected), refSeq.get(chosen), refSeq.get(rejected),
                lengths.get(chosen), lengths.get(rejected), nll, o);
    }

    /**
     * Reference log-probs: the policy with its adapter off (exactly the base), or a separate model;
     * optionally cached per pair (TRL's precompute_ref_log_probs) so each is computed once.
     */
    static final class RefLogProbs {
        private final LlamaModel policy;
        private final LlamaModel reference;
        private final Map<PairKey, float[]> cache; // the pair → {chosen, rejected}
        private final ReferenceLogProbsFolder precomputed; // null = computed here

        RefLogProbs(LlamaModel policy, LlamaModel reference, boolean precompute) {
            this(policy, reference, precompute, null);
        }

        RefLogProbs(LlamaModel policy, LlamaModel reference, boolean precompute, ReferenceLogProbsFolder precomputed) {
            this.policy = policy;
            this.reference = reference;
            this.cache = precompute ? new HashMap<>() : null;
            this.precomputed = precomputed;
        }

        NDArray sequenceLogProbs(PreferenceBatch pb, NDArray ids, NDArray mask, NDArray lossMask) {
            int p = pb.pairs();
            if (precomputed != null) {
                float[] values = new float[2 * p]; // (2P): chosen, then rejected
                for (int i = 0; i < p; i++) {
                    float[] v = precomputed.lookup(pb.sources()[i], unpadded(pb, pb.chosenRow(i)), unpadded(pb, pb.rejectedRow(i)));
                    values[i] = v[0];
                    values[p + i] = v[1];
                }
                return ids.getManager().create(values);
            }
            if (cache != null) {
                float[] values = new float[2 * p];
                boolean all = true;
                for (int i = 0; i < p && all; i++) {
                    float[] v = cache.get(key(pb, i));
                    all = v != null;
                    if (all) {
                        values[i] = v[0];
                        values[p + i] = v[1];
                    }
                }
                if (all) {
                    return ids.getManager().create(values);
                }
            }
            NDArray lp;
            if (reference != null) {
                lp = reference.tokenLogProbs(ids, mask);
            } else {
                lp = policy.withAdaptersOff(() -> policy.tokenLogProbs(ids, mask));
            }
            NDArray seq = SequenceLogProbs.sum(lp, lossMask); // (2P); frozen weights only, so no gradient flows
            if (cache != null) {
                float[] v = seq.toFloatArray();
                for (int i = 0; i < p; i++) {
                    cache.put(key(pb, i), new float[] {v[i], v[p + i]});
                }
            }
            return seq;
        }

        /** A row's tokens without the right padding (its attention mask's ones). */
        private static long[] unpadded(PreferenceBatch pb, int row) {
            long[] mask = pb.batch().attentionMask()[row];
            int n = 0;
            while (n < mask.length && mask[n] != 0) {
                n++;
            }
            return Arrays.copyOf(pb.batch().inputIds()[row], n);
        }

        private static PairKey key(PreferenceBatch pb, int pair) {
            return new PairKey(pb.sources()[pair], pb.promptLengths()[pair], pb.batch().inputIds()[pb.chosenRow(pair)],
                    pb.batch().inputIds()[pb.rejectedRow(pair)]);
        }
    }

    /**
     * A pair as the reference cache knows it: where it came from, its prompt length and both token
     * rows compared element by element. The rows are the padded ones the reference scored, so a pair
     * padded differently in another batch is scored afresh rather than given numbers of another shape.
     * (A 32-bit hash of the rows once stood in for them: two pairs whose hashes collided shared a reference.)
     */
    record PairKey(String source, int promptLength, long[] chosen, long[] rejected) {
        PairKey {
            chosen = chosen.clone();
            rejected = rejected.clone();
        }

        @Override
        public boolean equals(Object o) {
            return o instanceof PairKey k && source.equals(k.source) && promptLength == k.promptLength
                    && Arrays.equals(chosen, k.chosen) && Arrays.equals(rejected, k.rejected);
        }

        @Override
        public int hashCode() {
            return Objects.hash(source, promptLength, Arrays.hashCode(chosen), Arrays.hashCode(rejected));
        }

        @Override
        public String toString() {
            return source + "#" + promptLength + " " + Arrays.toString(chosen) + " / " + Arrays.toString(rejected);
        }
    }
}
