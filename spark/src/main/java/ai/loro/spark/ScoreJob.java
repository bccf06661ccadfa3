package ai.loro.spark;

import ai.loro.spark.kernel.ScoreKernel;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

@Command(name = "score", mixinStandardHelpOptions = true,
        description = {"loro score as a Spark job: \"text\", \"messages\" or a pair {\"prompt\", \"chosen\", \"rejected\"} per line;"
                + " output rows add \"row\" and \"reward\" (or \"scores\", \"label\"), or \"reward_chosen\", \"reward_rejected\","
                + " \"chosen_preferred\"."})
final class ScoreJob implements Callable<Integer> {
    @Option(names = "--model", required = true, paramLabel = "DIR|ORG/NAME", description = "Reward model, or the base with --adapter.") String model;
    @Option(names = "--adapter", paramLabel = "DIR", description = "PEFT adapter with the score head in modules_to_save.") String adapter;
    @Option(names = "--template", paramLabel = "NAME", defaultValue = "tokenizer",
            description = "Chat template for messages and pairs: tokenizer (default) or a built-in name.") String template;
    @Option(names = "--sequence-len", defaultValue = "4096", description = "Longest sequence (default: ${DEFAULT-VALUE}).") int sequenceLen;
    @Mixin JobOptions job;
    @Spec CommandSpec spec;

    @Override
    public Integer call() {
        ScoreKernel k = new ScoreKernel(job.input, ModelPaths.resolve("--model", model), ModelPaths.resolve("--adapter", adapter),
                template, sequenceLen, job.batchSize);
        return Jobs.execute("score", k, job, spec.commandLine().getParseResult().originalArgs(), spec.commandLine().getOut());
    }
}
