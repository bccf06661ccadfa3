package ai.loro.sft;

import ai.loro.core.LoroException;
import ai.loro.core.recipe.Recipe;
import ai.loro.core.tokenizer.LoroTokenizer;
import ai.loro.datasets.BadRows;
import ai.loro.datasets.Batch;
import ai.loro.datasets.Collator;
import ai.loro.datasets.DatasetFormat;
import ai.loro.datasets.Datasets;
import ai.loro.datasets.EncodeOptions;
import ai.loro.datasets.Example;
import ai.loro.datasets.ExampleEncoder;
import ai.loro.datasets.Packer;
import ai.loro.datasets.PackedRow;
import ai.loro.datasets.Sample;
import ai.loro.datasets.Splits;
import ai.loro.datasets.Templates;
import java.io.PrintStream;
import java.util.ArrayList;
import java.util.List;

/**
 * The recipe's data sets as training and validation micro-batches: read, rendered through the chat
 * template, tokenized with loss masks, split, and (optionally) packed.
 */
final class SftData {
    private final List<Example> train;
    private final List<PackedRow> trainPacked; // non-null when packing
    final List<Batch> validation;
    private final Recipe recipe;
    private final long padId;

    private SftData(List<Example> train, List<PackedRow> trainPacked, List<Batch> validation, Recipe recipe, long padId) {
        this.train = train;
        this.trainPacked = trainPacked;
        this.validation = validation;
        this.recipe = recipe;
        this.padId = padId;
    }

    /** Micro-batches per epoch. */
    int batchesPerEpoch() {
        int rows = trainPacked != null ? trainPacked.size() : train.size();
        return (rows + recipe.microBatchSize() - 1) / recipe.microBatchSize();
    }

    /** The epoch's micro-batches: rows shuffled by (seed, epoch), then collated in order. */
    List<Batch> epoch(int epoch) {
        long seed = recipe.seed() * 1_000_003L + epoch;
        List<Batch> out = new ArrayList<>();
        int mb = recipe.microBatchSize();
        if (trainPacked != null) {
            List<PackedRow> rows = Splits.shuffle(trainPacked, seed);
            for (int i = 0; i < rows.size(); i += mb) {
                out.add(Collator.collatePacked(rows.subList(i, Math.min(rows.size(), i + mb))));
            }
        } else {
            List<Example> rows = Splits.shuffle(train, seed);
            for (int i = 0; i < rows.size(); i += mb) {
                out.add(Collator.collate(rows.subList(i, Math.min(rows.size(), i + mb)), padId));
            }
        }
        return out;
    }

    static SftData load(Recipe r, LoroTokenizer tokenizer, PrintStream log) {
        List<Example> examples = new ArrayList<>();
        for (Recipe.Dataset d : r.datasets()) {
            BadRows bad = new BadRows(r.skipBadRowsFor(d));
            List<Sample> samples = Datasets.load(d.path(), DatasetFormat.of(d.type()), bad);
            // strictBoundaries false: prompt and response are tokenized as the model sees them at inference
            // (the prompt alone, then the response), as Axolotl and Stanford Alpaca do.
            EncodeOptions options = EncodeOptions.of(r.sequenceLen())
                    .withTemplate(Templates.resolve(r.chatTemplateFor(d), tokenizer))
                    .withTrainOnInputs(r.trainOnInputsFor(d))
                    .withStrictBoundaries(false);
            ExampleEncoder encoder = new ExampleEncoder(tokenizer, options);
            List<Example> encoded = encoder.encodeAll(samples, bad);
            log.printf("data %s (%s): %s%s%n", d.path().getFileName(), d.type(), encoder.stats().summary(r.sequenceLen()),
                    bad.count() > 0 ? ", " + bad.count() + " bad rows skipped" : "");
            examples.addAll(encoded);
        }
        if (examples.isEmpty()) {
            throw new LoroException("no trainable examples in the recipe's data sets (all rows were skipped or dropped)");
        }
        Splits.Split<Example> split = Splits.split(examples, r.valSetSize(), r.seed());
        if (split.train().isEmpty()) {
            throw new LoroException("val_set_size " + r.valSetSize() + " leaves no training examples out of " + examples.size());
        }
        long padId = Collator.padId(tokenizer);
        List<PackedRow> packed = r.packing() ? Packer.pack(split.train(), r.sequenceLen(), padId) : null;
        List<Batch> validation = new ArrayList<>();
        for (int i = 0; i < split.validation().size(); i += r.microBatchSize()) {
            validation.add(Collator.collate(split.validation().subList(i,
                    Math.min(split.validation().size(), i + r.microBatchSize())), padId));
        }
        SftData data = new SftData(split.train(), packed, validation, r, padId);
        long tokens = split.train().stream().mapToLong(Example::trainableTokens).sum();
        log.printf("data: %d training examples%s, %d micro-batches per epoch, %d loss tokens; %d validation examples%n",
                split.train().size(), packed != null ? " packed into " + packed.size() + " rows" : "",
                data.batchesPerEpoch(), tokens, split.validation().size());
        return data;
    }

}
