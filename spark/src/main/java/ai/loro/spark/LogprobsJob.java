package ai.loro.spark;

import ai.loro.spark.kernel.LogprobsKernel;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

@Command(name = "logprobs", mixinStandardHelpOptions = true,
        description = {"loro logprobs as a Spark job: each input line holds \"input_ids\" or \"text\"; each output row adds"
                + " \"row\", \"input_ids\" and \"logprobs\" (logprobs[t] = log p(input_ids[t+1] | input_ids[0..t]), fp32)."})
final class LogprobsJob implements Callable<Integer> {
    @Option(names = "--model", required = true, paramLabel = "DIR|ORG/NAME", description = "Hugging Face model folder (or Hub id in the local cache).") String model;
    @Option(names = "--adapter", paramLabel = "DIR", description = "A PEFT LoRA adapter over the model.") String adapter;
    @Mixin JobOptions job;
    @Spec CommandSpec spec;

    @Override
    public Integer call() {
        LogprobsKernel k = new LogprobsKernel(job.input, ModelPaths.resolve("--model", model), ModelPaths.resolve("--adapter", adapter),
                job.batchSize);
        return Jobs.execute("logprobs", k, job, spec.commandLine().getParseResult().originalArgs(), spec.commandLine().getOut());
    }
}
