package ai.loro.reward;

import ai.loro.core.io.AtomicFiles;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.loro.core.LoroException;
import ai.loro.core.loss.LossOps;
import ai.loro.core.model.LlamaModel;
import ai.loro.core.model.ModelWriter;
import ai.loro.core.recipe.Recipe;
import ai.loro.core.tokenizer.LoroTokenizer;
import ai.loro.core.train.EpochCursor;
import ai.loro.core.train.EvalLoss;
import ai.loro.core.train.MicroBatchLoss;
import ai.loro.core.train.RecipeTraining;
import ai.loro.core.train.StageResult;
import ai.loro.core.train.TrainLoop;
import ai.loro.datasets.BadRows;
import ai.loro.datasets.Batch;
import ai.loro.datasets.Collator;
import ai.loro.datasets.DatasetReader;
import ai.loro.datasets.Row;
import ai.loro.datasets.Splits;
import ai.loro.lora.LoraAdapter;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * A text classifier (sentiment, coding open survey answers into categories): the reward model's
 * backbone and {@code score} head with {@code reward.num_labels} outputs, trained with
 * cross-entropy on {@code classification} rows ({"text", "label"}); reports held-out accuracy and a
 * confusion matrix (also written to {@code confusion.json}).
 */
public final class ClassifierStage {
    /** The data set {@code type} a classifier trains on: rows {"text", "label"}. */
    public static final String TYPE = "classification";

    private ClassifierStage() {}

    /** One labelled text, tokenized. */
    record Item(long[] ids, int label) {}

    /** A batch: right-padded ids and mask, labels. */
    record ItemBatch(long[][] ids, long[][] mask, long[] labels) {}

    /**
     * A classifier: {@code model} the sequence-classification checkpoint (LoRA merged), {@code adapter}
     * the PEFT adapter or null, {@code metrics} the held-out {@code accuracy} and {@code loss} (empty
     * without a validation set; the confusion matrix is in {@code confusion.json}).
     */
    public static StageResult run(Recipe r, PrintStream log) {
        int n = r.block(RewardConfig.BLOCK).numLabels();
        List<String> names = r.block(RewardConfig.BLOCK).labels();
        if (!names.isEmpty() && names.size() != n) {
            throw new LoroException("reward.labels names " + names.size() + " classes but reward.num_labels is " + n);
        }
        Path out = r.outputDir();
        RecipeTraining.prepareOutput(r);
        // ---- setup
        try (LoroTokenizer tokenizer = LoroTokenizer.load(r.baseModel())) {
            long padId = Collator.padId(tokenizer);
            List<Item> items = new ArrayList<>();
            for (Recipe.Dataset d : r.datasets()) {
                if (!d.type().equals(TYPE)) {
                    throw new LoroException(d.path() + ": reward.num_labels > 1 trains a classifier on 'classification' data"
                            + " ({\"text\", \"label\"}), not '" + d.type() + "'");
                }
                BadRows bad = new BadRows(r.skipBadRowsFor(d));
                for (Row row : DatasetReader.read(d.path(), bad)) {
                    try {
                        items.add(item(row, tokenizer, n, names, r.sequenceLen()));
                    } catch (LoroException e) {
                        bad.handle(e);
                    }
                }
                log.printf("data %s: %d labelled texts%s%n", d.path().getFileName(), items.size(),
                        bad.count() > 0 ? ", " + bad.count() + " bad rows skipped" : "");
            }
            Splits.Split<Item> split = Splits.split(items, r.valSetSize(), r.seed());
            if (split.train().isEmpty()) {
                throw new LoroException("no training texts (val_set_size " + r.valSetSize() + " of " + items.size() + ")");
            }
            int mb = r.microBatchSize();
            int perEpoch = (split.train().size() + mb - 1) / mb;
            List<ItemBatch> validation = batches(split.validation(), mb, padId);
            try (ScoreModel setup = ScoreModel.setUp(r, n, log)) {
                LlamaModel model = setup.model();
                LoraAdapter adapter = setup.adapter();
                int steps = RecipeTraining.totalSteps(r, perEpoch);
                log.printf("classifier (%d labels) on %s: %d training / %d validation texts; %d steps%n", n,
                        r.baseModel().getFileName(), split.train().size(), split.validation().size(), steps);
                // ---- train
                EpochCursor<ItemBatch> cursor = new EpochCursor<>(
                        e -> batches(Splits.shuffle(split.train(), r.seed() * 1_000_003L + e), mb, padId), perEpoch);
                MicroBatchLoss loss = (m, step, micro) -> {
                    ItemBatch b = cursor.next();
                    ClassificationLoss.Result ce = ClassificationLoss.crossEntropy(logits(model, b, m), m.create(b.labels()));
                    return new MicroBatchLoss.Result(LossOps.times(ce.loss(), b.labels().length), b.labels().length, ce.metrics());
                };
                TrainLoop.Result result = RecipeTraining.train(r, steps, setup.trainable(), adapter, cursor, loss,
                        validation.isEmpty() ? null : evaluation(model, validation, n, null));
                // ---- report and save
                EvalLoss.Result heldOut = null;
                if (!validation.isEmpty()) {
                    ClassificationLoss.ConfusionMatrix confusion = new ClassificationLoss.ConfusionMatrix(n);
                    heldOut = EvalLoss.once(model.manager(), adapter, evaluation(model, validation, n, confusion), result.steps());
                    double accuracy = heldOut.metrics().get("accuracy");
                    log.print(report(confusion.counts(), names, accuracy));
                    writeConfusion(out.resolve("confusion.json"), confusion.counts(), names, accuracy);
                } else {
                    log.println(RewardStage.NO_VALIDATION + ", so no held-out accuracy or confusion matrix");
                }
                ScoreModel.Saved saved = setup.save(r, padId, log);
                Path modelDir = saved.model();
                if (!names.isEmpty()) {
                    ModelWriter.writeLabelNames(modelDir, names); // id2label names, so readers (and ppo.reward_classifier_label) see them
                }
                log.printf("done: %d steps, last train loss %.4f; classifier %s%n", result.steps(), result.lastLoss(), modelDir);
                return new StageResult(saved.adapter(), modelDir, null, result, RewardStage.heldOutMetrics(heldOut));
            }
        }
    }

    static Item item(Row row, LoroTokenizer tokenizer, int n, List<String> names, int sequenceLen) {
        LabelledText row0 = LabelledText.parse(row);
        JsonNode label = row0.label();
        int index;
        if (label != null && label.isIntegralNumber()) {
            index = label.asInt();
        } else if (label != null && label.isTextual() && names.contains(label.asText())) {
            index = names.indexOf(label.asText());
        } else {
            throw new LoroException(row.where() + ": field 'label' is " + label + "; allowed: an integer in [0, " + n + ")"
                    + (names.isEmpty() ? " (or set reward.labels to use names)" : " or one of " + names));
        }
        if (index < 0 || index >= n) {
            throw new LoroException(row.where() + ": label " + index + " is outside [0, " + n + ")");
        }
        long[] ids = tokenizer.encode(row0.text(), true);
        if (ids.length > sequenceLen) {
            ids = java.util.Arrays.copyOf(ids, sequenceLen); // the score reads the last kept token
        }
        return new Item(ids, index);
    }

    static List<ItemBatch> batches(List<Item> items, int mb, long padId) {
        List<ItemBatch> out = new ArrayList<>();
        for (int i = 0; i < items.size(); i += mb) {
            List<Item> part = items.subList(i, Math.min(items.size(), i + mb));
            int t = part.stream().mapToInt(x -> x.ids().length).max().orElse(1);
            long[][] ids = new long[part.size()][t];
            long[][] mask = new long[part.size()][t];
            long[] labels = new long[part.size()];
            for (int b = 0; b < part.size(); b++) {
                java.util.Arrays.fill(ids[b], padId);
                System.arraycopy(part.get(b).ids(), 0, ids[b], 0, part.get(b).ids().length);
                java.util.Arrays.fill(mask[b], 0, part.get(b).ids().length, 1L);
                labels[b] = part.get(b).label();
            }
            out.add(new ItemBatch(ids, mask, labels));
        }
        return out;
    }

    static NDArray logits(LlamaModel model, ItemBatch b, NDManager m) {
        int rows = b.ids().length;
        int t = b.ids()[0].length;
        NDArray ids = m.create(Batch.flat(b.ids()), new Shape(rows, t));
        NDArray mask = m.create(Batch.flat(b.mask()), new Shape(rows, t));
        return model.classify(model.hiddenStates(ids, mask, null), mask); // (B, N)
    }

    /**
     * Cross-entropy summed over the validation texts, their count, and {@code accuracy}; fills
     * {@code confusion} when given.
     */
    static EvalLoss evaluation(LlamaModel model, List<ItemBatch> batches, int n, ClassificationLoss.ConfusionMatrix confusion) {
        return (m, step) -> {
            double loss = 0;
            double correct = 0;
            long count = 0;
            for (ItemBatch b : batches) {
                try (NDManager sm = m.newSubManager()) {
                    NDArray logits = logits(model, b, sm);
                    NDArray labels = sm.create(b.labels());
                    ClassificationLoss.Result ce = ClassificationLoss.crossEntropy(logits, labels);
                    loss += ce.loss().toType(DataType.FLOAT64, false).getDouble() * b.labels().length;
                    correct += ClassificationLoss.accuracy(logits, labels) * b.labels().length;
                    count += b.labels().length;
                    if (confusion != null) {
                        confusion.add(logits, labels);
                    }
                }
            }
            return new EvalLoss.Result(loss, count, Map.of("accuracy", correct / count));
        };
    }

    static String report(long[][] counts, List<String> names, double accuracy) {
        StringBuilder sb = new StringBuilder(String.format("held-out accuracy %.3f; confusion matrix (rows = true, columns = predicted):%n", accuracy));
        sb.append(String.format("%14s", ""));
        for (int j = 0; j < counts.length; j++) {
            sb.append(String.format("%10s", label(names, j)));
        }
        sb.append('\n');
        for (int i = 0; i < counts.length; i++) {
            sb.append(String.format("%14s", label(names, i)));
            for (long c : counts[i]) {
                sb.append(String.format("%10d", c));
            }
            sb.append('\n');
        }
        return sb.toString();
    }

    private static String label(List<String> names, int i) {
        return names.isEmpty() ? String.valueOf(i) : names.get(i);
    }

    static void writeConfusion(Path file, long[][] counts, List<String> names, double accuracy) {
        ObjectMapper json = new ObjectMapper();
        ObjectNode o = json.createObjectNode();
        o.put("accuracy", accuracy);
        o.putPOJO("labels", names);
        o.putPOJO("confusion", counts);
        try {
            AtomicFiles.writeString(file, json.writerWithDefaultPrettyPrinter().writeValueAsString(o) + "\n");
        } catch (IOException e) {
            throw new LoroException(file + ": cannot write: " + e.getMessage());
        }
    }
}
