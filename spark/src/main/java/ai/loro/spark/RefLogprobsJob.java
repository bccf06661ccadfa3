package ai.loro.spark;

import ai.loro.spark.kernel.RefLogprobsKernel;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

@Command(name = "ref-logprobs", mixinStandardHelpOptions = true,
        description = {"DPO reference log-probs of preference pairs {\"prompt\", \"chosen\", \"rejected\"}, encoded as the DPO"
                + " stage encodes them (give the recipe's chat template and sequence_len). Output rows add \"row\","
                + " \"chosen_input_ids\", \"rejected_input_ids\", \"ref_chosen_logps\", \"ref_rejected_logps\"; point"
                + " dpo.reference_log_probs at the output folder."})
final class RefLogprobsJob implements Callable<Integer> {
    @Option(names = "--model", required = true, paramLabel = "DIR|ORG/NAME",
            description = "The reference: the recipe's base_model (or its dpo.reference_model).") String model;
    @Option(names = "--template", paramLabel = "NAME", defaultValue = "tokenizer",
            description = "The recipe's chat template: tokenizer (default) or a built-in name.") String template;
    @Option(names = "--sequence-len", defaultValue = "512", description = "The recipe's sequence_len (default: ${DEFAULT-VALUE}).") int sequenceLen;
    @Mixin JobOptions job;
    @Spec CommandSpec spec;

    @Override
    public Integer call() {
        RefLogprobsKernel k = new RefLogprobsKernel(job.input, ModelPaths.resolve("--model", model), template, sequenceLen, job.batchSize);
        return Jobs.execute("ref-logprobs", k, job, spec.commandLine().getParseResult().originalArgs(), spec.commandLine().getOut());
    }
}
