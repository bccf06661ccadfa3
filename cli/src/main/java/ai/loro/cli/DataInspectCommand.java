package ai.loro.cli;

import ai.loro.core.LoroException;
import ai.loro.core.tokenizer.ChatTemplate;
import ai.loro.core.tokenizer.LoroTokenizer;
import ai.loro.datasets.DatasetFormat;
import ai.loro.datasets.DatasetStats;
import ai.loro.datasets.EncodeOptions;
import ai.loro.datasets.PreferenceDataStats;
import ai.loro.datasets.PreferenceFormat;
import ai.loro.reward.ClassificationDataStats;
import ai.loro.rlhf.PromptDataStats;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.concurrent.Callable;
import java.util.stream.Collectors;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code loro data inspect FILE --type T [--tokenizer DIR]}: counts, lengths, truncation; for SFT types
 * ({@link DatasetFormat}) per example, for preference types ({@link PreferenceFormat}) per pair: prompt, chosen
 * and rejected lengths, and how many of each side sequence_len would cut; for {@code prompt} (PPO, GRPO) per prompt,
 * and for {@code classification} (reward classifiers) per labelled text with the label counts.
 */
@Command(name = "inspect", mixinStandardHelpOptions = true,
        description = {"Read a data set file (.jsonl, .json, .csv, each also .gz/.zst, or .parquet) and report rows, bad rows, example",
            "lengths (p50/p90/p99/max) and how many examples sequence_len would truncate. Preference types report",
            "pairs, prompt/chosen/rejected lengths and how many chosen and rejected sequences sequence_len would cut,",
            "encoded as the reward and DPO stages encode them. 'prompt' (PPO/GRPO) reports prompts, answers and how many",
            "prompts leave no room for --max-new-tokens; 'classification' the count of each label and truncated texts.",
            "Without --tokenizer, lengths are characters of the message contents."})
public final class DataInspectCommand implements Callable<Integer> {
    @CommandLine.Spec CommandLine.Model.CommandSpec spec;

    @Parameters(index = "0", paramLabel = "FILE", description = "The data set file.")
    Path file;

    @Option(names = "--type", required = true, paramLabel = "TYPE",
            description = "Record format: alpaca, openorca, sharegpt, messages, completion (SFT), or preference, hh-rlhf,"
                    + " oasst, math-step-dpo, ultrafeedback (preference pairs), prompt (PPO/GRPO prompts), classification"
                    + " (labelled texts).")
    String type;

    @Option(names = "--tokenizer", paramLabel = "DIR|ORG/NAME", description = "Tokenizer directory (tokenizer.json,"
            + " tokenizer_config.json), or a Hub id org/name[@revision] in the local Hugging Face cache.")
    Path tokenizer;

    @Option(names = "--template", paramLabel = "NAME",
            description = "A builtin chat template instead of the tokenizer's (${COMPLETION-CANDIDATES}).",
            completionCandidates = TemplateNames.class)
    String template;

    @Option(names = "--sequence-len", defaultValue = "2048", paramLabel = "N",
            description = "Truncation length to report on (default: ${DEFAULT-VALUE}).")
    int sequenceLen;

    @Option(names = "--max-new-tokens", defaultValue = "64", paramLabel = "N",
            description = "For --type prompt: the tokens the stage generates after each prompt (ppo.max_new_tokens,"
                    + " default: ${DEFAULT-VALUE}); prompts longer than sequence_len - N are counted as dropped.")
    int maxNewTokens;

    @Option(names = "--train-on-inputs", description = "Count loss on prompt tokens too.")
    boolean trainOnInputs;

    @Option(names = "--skip-bad-rows", description = "Skip and count bad rows instead of stopping at the first.")
    boolean skipBadRows;

    @Option(names = "--lenient-boundaries",
            description = "Keep the prompt's own tokens where a token would span the prompt/response boundary.")
    boolean lenientBoundaries;

    static final class TemplateNames extends ArrayList<String> {
        TemplateNames() {
            super(ChatTemplate.builtinNames());
        }
    }

    @Override
    public Integer call() {
        if (template != null && tokenizer == null) {
            throw new LoroException("--template needs --tokenizer (lengths are counted in tokens)");
        }
        tokenizer = ModelOptions.resolveModel("--tokenizer", tokenizer);
        String report;
        PreferenceFormat preference = preferenceFormat(type);
        if (type.equals(PROMPT)) {
            report = withTokenizer(tok -> PromptDataStats.compute(file, tok, template, sequenceLen, maxNewTokens,
                    skipBadRows).report());
        } else if (type.equals(CLASSIFICATION)) {
            report = withTokenizer(tok -> ClassificationDataStats.compute(file, tok, sequenceLen, skipBadRows).report());
        } else if (preference != null) {
            // encoded as PreferenceData encodes them for the reward and DPO stages (lenient boundaries)
            EncodeOptions options = EncodeOptions.of(sequenceLen).withTemplate(template).withStrictBoundaries(false);
            report = withTokenizer(tok -> PreferenceDataStats.compute(file, preference, tok, tok == null ? null : options,
                    skipBadRows).report());
        } else {
            DatasetFormat format = sftFormat(type);
            EncodeOptions options = EncodeOptions.of(sequenceLen).withTemplate(template)
                    .withTrainOnInputs(trainOnInputs).withStrictBoundaries(!lenientBoundaries);
            report = withTokenizer(tok -> DatasetStats.compute(file, format, tok, tok == null ? null : options,
                    skipBadRows).report());
        }
        spec.commandLine().getOut().print(report);
        spec.commandLine().getOut().flush();
        return 0;
    }

    private String withTokenizer(java.util.function.Function<LoroTokenizer, String> f) {
        if (tokenizer == null) {
            return f.apply(null);
        }
        try (LoroTokenizer tok = LoroTokenizer.load(tokenizer)) {
            return f.apply(tok);
        }
    }

    static final String PROMPT = ai.loro.rlhf.Prompts.TYPE;
    static final String CLASSIFICATION = ai.loro.reward.ClassifierStage.TYPE;

    /** The preference format {@code name} names, or null when it is none. */
    static PreferenceFormat preferenceFormat(String name) {
        try {
            return PreferenceFormat.of(name);
        } catch (LoroException e) {
            return null;
        }
    }

    /** The SFT format {@code name} names; an unknown name is one line listing both kinds of type. */
    static DatasetFormat sftFormat(String name) {
        try {
            return DatasetFormat.of(name);
        } catch (LoroException e) {
            throw new LoroException("--type: data set type '" + name + "' is not known; allowed: "
                    + Arrays.stream(DatasetFormat.values()).map(DatasetFormat::id).collect(Collectors.joining(", "))
                    + " (SFT), " + Arrays.stream(PreferenceFormat.values()).map(PreferenceFormat::id)
                    .collect(Collectors.joining(", ")) + " (preference pairs), " + PROMPT + " (PPO/GRPO prompts), "
                    + CLASSIFICATION + " (labelled texts)");
        }
    }
}
