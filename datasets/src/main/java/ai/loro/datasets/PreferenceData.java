package ai.loro.datasets;

import ai.loro.core.LoroException;
import ai.loro.core.recipe.Recipe;
import ai.loro.core.tokenizer.LoroTokenizer;
import java.io.PrintStream;
import java.util.ArrayList;
import java.util.List;

/**
 * A recipe's preference data sets as training and validation batches of (chosen, rejected) pairs,
 * for the reward and DPO stages: read, parsed by format, encoded with the prompt tokenized once and
 * shared by both responses, split, and shuffled per epoch by (seed, epoch).
 */
public final class PreferenceData {
    private final List<EncodedPair> train;
    private final List<PreferenceBatch> validation;
    private final int microBatchSize;
    private final long seed;
    private final long padId;

    private PreferenceData(List<EncodedPair> train, List<PreferenceBatch> validation, int microBatchSize, long seed,
                           long padId) {
        this.train = train;
        this.validation = validation;
        this.microBatchSize = microBatchSize;
        this.seed = seed;
        this.padId = padId;
    }

    public static PreferenceData load(Recipe r, LoroTokenizer tokenizer, PrintStream log) {
        List<EncodedPair> pairs = new ArrayList<>();
        for (Recipe.Dataset d : r.datasets()) {
            PreferenceFormat format;
            try {
                format = PreferenceFormat.of(d.type());
            } catch (LoroException e) {
                throw new LoroException(d.path() + ": data set type '" + d.type() + "' is not a preference format (stage "
                        + r.stage() + " needs one of preference, hh-rlhf, oasst, math-step-dpo, ultrafeedback)");
            }
            BadRows bad = new BadRows(r.skipBadRowsFor(d));
            List<PreferencePair> parsed = format.parseAll(DatasetReader.read(d.path(), bad), bad);
            EncodeOptions options = EncodeOptions.of(r.sequenceLen())
                    .withTemplate(Templates.resolve(r.chatTemplateFor(d), tokenizer))
                    .withStrictBoundaries(false);
            PreferenceEncoder encoder = new PreferenceEncoder(tokenizer, options);
            List<EncodedPair> encoded = encoder.encodeAll(parsed, bad);
            log.printf("data %s (%s): %d pairs; %s%s%n", d.path().getFileName(), d.type(), parsed.size(),
                    encoder.stats().summary(r.sequenceLen()), bad.count() > 0 ? ", " + bad.count() + " bad rows skipped" : "");
            pairs.addAll(encoded);
        }
        if (pairs.isEmpty()) {
            throw new LoroException("no usable preference pairs in the recipe's data sets (all rows were skipped or dropped)");
        }
        Splits.Split<EncodedPair> split = Splits.split(pairs, r.valSetSize(), r.seed());
        if (split.train().isEmpty()) {
            throw new LoroException("val_set_size " + r.valSetSize() + " leaves no training pairs out of " + pairs.size());
        }
        long padId = Collator.padId(tokenizer);
        List<PreferenceBatch> validation = new ArrayList<>();
        for (int i = 0; i < split.validation().size(); i += r.microBatchSize()) {
            validation.add(PreferenceCollator.collate(split.validation().subList(i,
                    Math.min(split.validation().size(), i + r.microBatchSize())), padId));
        }
        log.printf("data: %d training pairs, %d validation pairs%n", split.train().size(), split.validation().size());
        return new PreferenceData(split.train(), validation, r.microBatchSize(), r.seed(), padId);
    }


    public List<EncodedPair> trainPairs() {
        return train;
    }

    public List<PreferenceBatch> validation() {
        return validation;
    }

    public int batchesPerEpoch() {
        return (train.size() + microBatchSize - 1) / microBatchSize;
    }

    /** Epoch {@code e}'s micro-batches: pairs shuffled by (seed, e), then collated in order. */
    public List<PreferenceBatch> epoch(int epoch) {
        List<EncodedPair> order = Splits.shuffle(train, seed * 1_000_003L + epoch);
        List<PreferenceBatch> out = new ArrayList<>();
        for (int i = 0; i < order.size(); i += microBatchSize) {
            out.add(PreferenceCollator.collate(order.subList(i, Math.min(order.size(), i + microBatchSize)), padId));
        }
        return out;
    }
}
