package ai.loro.reward;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.loro.core.LoroException;
import ai.loro.core.loss.LossOps;
import ai.loro.core.model.LlamaModel;
import ai.loro.core.model.ModelWriter;
import ai.loro.core.recipe.Recipe;
import ai.loro.core.tokenizer.LoroTokenizer;
import ai.loro.core.train.AdamW;
import ai.loro.core.train.RecipeTraining;
import ai.loro.core.train.EpochCursor;
import ai.loro.core.train.EvalLoss;
import ai.loro.core.train.MicroBatchLoss;
import ai.loro.core.train.Schedule;
import ai.loro.core.train.TrainConfig;
import ai.loro.core.train.TrainLoop;
import ai.loro.datasets.Batch;
import ai.loro.datasets.Collator;
import ai.loro.datasets.PreferenceBatch;
import ai.loro.datasets.PreferenceData;
import ai.loro.lora.LoraAdapter;
import ai.loro.lora.Merge;
import ai.loro.lora.Peft;
import java.io.PrintStream;
import java.nio.file.Path;
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

    public record Result(Path model, Path adapter, TrainLoop.Result training, double validationAccuracy) {}

    public static Result run(Recipe r, PrintStream log) {
        if (r.reward().numLabels() > 1) {
            ClassifierStage.Result c = ClassifierStage.run(r, log);
            return new Result(c.model(), null, null, c.accuracy());
        }
        Path out = r.outputDir();
        RecipeTraining.prepareOutput(r);
        // ---- setup
        LoroTokenizer tokenizer = LoroTokenizer.load(r.baseModel());
        PreferenceData data = PreferenceData.load(r, tokenizer, log);
        long padId = Collator.padId(tokenizer);
        ScoreModel setup = ScoreModel.setUp(r, 1, log);
        LlamaModel model = setup.model();
        NDArray score = setup.score();
        LoraAdapter adapter = setup.adapter();
        boolean lora = adapter != null;
        Map<String, NDArray> trainable = setup.trainable();
        int steps = RecipeTraining.totalSteps(r, data.batchesPerEpoch());
        AdamW optimizer = RecipeTraining.optimizer(r, trainable);
        Schedule schedule = RecipeTraining.schedule(r, steps);
        TrainConfig config = RecipeTraining.config(r, steps, !data.validation().isEmpty());
        log.printf("reward model on %s: %,d trainable parameters (%s); %d steps of %d x %d pairs%n",
                r.baseModel().getFileName(), trainable.values().stream().mapToLong(p -> p.getShape().size()).sum(),
                lora ? "LoRA r=" + r.adapter().r() + " + score head" : "full fine-tuning", steps,
                r.gradientAccumulationSteps(), r.microBatchSize());
        // ---- train
        EpochCursor<PreferenceBatch> cursor = new EpochCursor<>(data::epoch, data.batchesPerEpoch());
        LoraAdapter dropout = adapter;
        MicroBatchLoss loss = (m, step, micro) -> {
            if (micro == 0 && dropout != null) {
                dropout.setStep(step);
            }
            PreferenceBatch b = cursor.next();
            BradleyTerry.Result bt = pairLoss(model, b, m, r.reward());
            int pairs = b.pairs();
            return new MicroBatchLoss.Result(LossOps.times(bt.loss(), pairs), pairs, bt.metrics());
        };
        EvalLoss eval = (m, step) -> {
            if (dropout != null) {
                dropout.setTraining(false);
            }
            double[] sums = evaluate(model, data, m, r.reward());
            if (dropout != null) {
                dropout.setTraining(true);
            }
            return new EvalLoss.Result(sums[0], (long) sums[2], Map.of("accuracy", sums[1] / sums[2]));
        };
        TrainLoop.Result result = new TrainLoop(config, trainable, optimizer, schedule, loss).data(cursor).eval(eval).run();
        // ---- save
        if (adapter != null) {
            adapter.setTraining(false);
        }
        double accuracy = Double.NaN;
        if (!data.validation().isEmpty()) {
            try (NDManager m = model.manager().newSubManager()) {
                double[] sums = evaluate(model, data, m, r.reward());
                accuracy = sums[1] / sums[2];
            }
        }
        String dtype = r.export().dtype().yamlName().toUpperCase();
        Path adapterDir = null;
        Map<String, NDArray> weights = model.parameters();
        if (lora) {
            adapterDir = out.resolve("adapter");
            Peft.save(adapter, adapterDir, r.baseModel().toString(), "SEQ_CLS", dtype, Map.of("score", score))
                    .forEach(w -> log.println("warning: " + w));
            weights = Merge.mergedWeights(model, adapter);
        }
        Path modelDir = out.resolve("model");
        ModelWriter.deleteTree(modelDir);
        ModelWriter.save(modelDir, model.config().withPadTokenId(padId), weights, dtype, r.baseModel());
        log.printf("done: %d steps, last train loss %.4f, %s; reward model %s%s%n", result.steps(), result.lastLoss(),
                data.validation().isEmpty() ? NO_VALIDATION + ", so no held-out pairwise accuracy"
                        : String.format(Locale.ROOT, "held-out pairwise accuracy %.3f", accuracy),
                modelDir, adapterDir != null ? ", adapter " + adapterDir : "");
        if (adapter != null) {
            adapter.close();
        }
        model.close();
        tokenizer.close();
        return new Result(modelDir, adapterDir, result, accuracy);
    }

    /** What the reward and classifier stages say instead of a held-out number when val_set_size is 0. */
    public static final String NO_VALIDATION = "no validation split (val_set_size is 0)";

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

    static BradleyTerry.Result pairLoss(LlamaModel model, PreferenceBatch b, NDManager m, Recipe.Reward cfg) {
        NDArray[] rw = rewards(model, b, m);
        NDArray margin = cfg.useMargin() && b.hasMargins() ? m.create(b.marginsOrZero()).toType(DataType.FLOAT32, false) : null;
        return BradleyTerry.loss(rw[0], rw[1], margin, cfg.centerRewardsCoefficient());
    }

    /** {loss sum, correctly ordered pairs, pairs} over the validation set. */
    static double[] evaluate(LlamaModel model, PreferenceData data, NDManager m, Recipe.Reward cfg) {
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
