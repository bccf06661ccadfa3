package ai.loro.reward;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.loro.core.LoroException;
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
import ai.loro.datasets.Collator;
import ai.loro.datasets.PreferenceBatch;
import ai.loro.datasets.PreferenceData;
import ai.loro.lora.LoraAdapter;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;

/**
 * Reward-model training on ranked pairs: setup (pairs, a Llama backbone with a {@code score} head,
 * LoRA with the head trained in full, or full fine-tuning), train (Bradley–Terry loss on the rewards
 * read at each sequence's last real token), save (HF sequence-classification checkpoint with
 * {@code pad_token_id}, and the PEFT adapter with the head in {@code modules_to_save}).
 */
public final class RewardStage {
    private RewardStage() {}

    /**
     * A Bradley–Terry reward model; {@code adapter} is null with full fine-tuning, {@code model} the
     * sequence-classification checkpoint (LoRA merged), {@code metrics} the held-out {@code accuracy}
     * and {@code loss} (empty without a validation set).
     */
    public static StageResult run(Recipe r, PrintStream log) {
        if (r.block(RewardConfig.BLOCK).numLabels() > 1) {
            throw new LoroException("reward.num_labels " + r.block(RewardConfig.BLOCK).numLabels() + " trains a classifier (ClassifierStage),"
                    + " not a pairwise reward model");
        }
        RecipeTraining.prepareOutput(r);
        // ---- setup
        try (LoroTokenizer tokenizer = LoroTokenizer.load(r.baseModel())) {
            PreferenceData data = PreferenceData.load(r, tokenizer, log);
            long padId = Collator.padId(tokenizer);
            try (ScoreModel setup = ScoreModel.setUp(r, 1, log)) {
                LlamaModel model = setup.model();
                LoraAdapter adapter = setup.adapter();
                Map<String, NDArray> trainable = setup.trainable();
                int steps = RecipeTraining.totalSteps(r, data.batchesPerEpoch());
                log.printf("reward model on %s: %,d trainable parameters (%s); %d steps of %d x %d pairs%n",
                        r.baseModel().getFileName(), trainable.values().stream().mapToLong(p -> p.getShape().size()).sum(),
                        adapter != null ? "LoRA r=" + r.adapter().r() + " + score head" : "full fine-tuning", steps,
                        r.gradientAccumulationSteps(), r.microBatchSize());
                // ---- train
                EpochCursor<PreferenceBatch> cursor = new EpochCursor<>(data::epoch, data.batchesPerEpoch());
                MicroBatchLoss loss = (m, step, micro) -> {
                    PreferenceBatch b = cursor.next();
                    BradleyTerry.Result bt = pairLoss(model, b, m, r.block(RewardConfig.BLOCK));
                    int pairs = b.pairs();
                    return new MicroBatchLoss.Result(LossOps.times(bt.loss(), pairs), pairs, bt.metrics());
                };
                EvalLoss eval = data.validation().isEmpty() ? null : (m, step) -> {
                    double[] sums = evaluate(model, data, m, r.block(RewardConfig.BLOCK));
                    return new EvalLoss.Result(sums[0], (long) sums[2], Map.of("accuracy", sums[1] / sums[2]));
                };
                TrainLoop.Result result = RecipeTraining.train(r, steps, trainable, adapter, cursor, loss, eval);
                // ---- report and save
                EvalLoss.Result heldOut = eval == null ? null : EvalLoss.once(model.manager(), adapter, eval, result.steps());
                double accuracy = heldOut == null ? Double.NaN : heldOut.metrics().get("accuracy");
                ScoreModel.Saved saved = setup.save(r, padId, log);
                log.printf("done: %d steps, last train loss %.4f, %s; reward model %s%s%n", result.steps(), result.lastLoss(),
                        heldOut == null ? NO_VALIDATION + ", so no held-out pairwise accuracy"
                                : String.format(Locale.ROOT, "held-out pairwise accuracy %.3f", accuracy),
                        saved.model(), saved.adapter() != null ? ", adapter " + saved.adapter() : "");
                return new StageResult(saved.adapter(), saved.model(), null, result, heldOutMetrics(heldOut));
            }
        }
    }

    /** What the reward and classifier stages say instead of a held-out number when val_set_size is 0. */
    public static final String NO_VALIDATION = "no validation split (val_set_size is 0)";

    /** A final held-out evaluation as a stage's metrics: its {@code loss} and its own metrics; none without one. */
    static Map<String, Double> heldOutMetrics(EvalLoss.Result heldOut) {
        if (heldOut == null) {
            return Map.of();
        }
        Map<String, Double> m = new LinkedHashMap<>(heldOut.metrics());
        m.put("loss", heldOut.loss());
        return m;
    }

    /** Rewards of a pair batch: (chosen (P), rejected (P)), each read at its row's last real token. */
    public static NDArray[] rewards(LlamaModel model, PreferenceBatch pb, NDManager m) {
        Batch b = pb.batch();
        int rows = b.size();
        int t = b.length();
        NDArray ids = m.create(Batch.flat(b.inputIds()), new Shape(rows, t));
        NDArray mask = m.create(Batch.flat(b.attentionMask()), new Shape(rows, t));
        NDArray r = model.classify(model.hiddenStates(ids, mask, null), mask).squeeze(-1); // (2P)
        int p = pb.pairs();
        return new NDArray[] {r.get(new NDIndex("0:{}", p)), r.get(new NDIndex("{}:", p))};
    }

    static BradleyTerry.Result pairLoss(LlamaModel model, PreferenceBatch b, NDManager m, RewardConfig cfg) {
        NDArray[] rw = rewards(model, b, m);
        NDArray margin = cfg.useMargin() && b.hasMargins() ? m.create(b.marginsOrZero()).toType(DataType.FLOAT32, false) : null;
        return BradleyTerry.loss(rw[0], rw[1], margin, cfg.centerRewardsCoefficient());
    }

    /** {loss sum, correctly ordered pairs, pairs} over the validation set. */
    static double[] evaluate(LlamaModel model, PreferenceData data, NDManager m, RewardConfig cfg) {
        double loss = 0;
        double correct = 0;
        double pairs = 0;
        for (PreferenceBatch b : data.validation()) {
            try (NDManager sm = m.newSubManager()) {
                BradleyTerry.Result bt = pairLoss(model, b, sm, cfg);
                loss += bt.loss().toType(DataType.FLOAT64, false).getDouble() * b.pairs();
                correct += bt.metrics().get("accuracy") * b.pairs();
                pairs += b.pairs();
            }
        }
        return new double[] {loss, correct, pairs};
    }
}
