package ai.loro.cli;

import ai.loro.core.LoroException;
import ai.loro.core.tokenizer.ChatTemplate;
import ai.loro.core.tokenizer.LoroTokenizer;
import ai.loro.datasets.DatasetFormat;
import ai.loro.datasets.DatasetStats;
import ai.loro.datasets.EncodeOptions;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code loro data inspect FILE --type T [--tokenizer DIR]}: counts, lengths, truncation. */
@Command(name = "inspect", mixinStandardHelpOptions = true,
        description = {"Read a data set file (.jsonl, .json, .csv, each also .gz/.zst, or .parquet) and report rows, bad rows, example",
            "lengths (p50/p90/p99/max) and how many examples sequence_len would truncate.",
            "Without --tokenizer, lengths are characters of the message contents."})
public final class DataInspectCommand implements Callable<Integer> {
    @CommandLine.Spec CommandLine.Model.CommandSpec spec;

    @Parameters(index = "0", paramLabel = "FILE", description = "The data set file.")
    Path file;

    @Option(names = "--type", required = true, paramLabel = "TYPE",
            description = "Record format: alpaca, openorca, sharegpt, messages or completion.")
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
        DatasetFormat format = DatasetFormat.of(type);
        if (template != null && tokenizer == null) {
            throw new LoroException("--template needs --tokenizer (lengths are counted in tokens)");
        }
        DatasetStats stats;
        if (tokenizer == null) {
            stats = DatasetStats.compute(file, format, null, null, skipBadRows);
        } else {
            EncodeOptions options = EncodeOptions.of(sequenceLen).withTemplate(template)
                    .withTrainOnInputs(trainOnInputs).withStrictBoundaries(!lenientBoundaries);
            try (LoroTokenizer tok = LoroTokenizer.load(tokenizer)) {
                stats = DatasetStats.compute(file, format, tok, options, skipBadRows);
            }
        }
        spec.commandLine().getOut().print(stats.report());
        spec.commandLine().getOut().flush();
        return 0;
    }
}
