package ai.loro.spark;

import ai.loro.spark.kernel.GenerateKernel;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

@Command(name = "generate", mixinStandardHelpOptions = true,
        description = {"loro generate as a Spark job, K samples per prompt: input lines hold \"prompt\", \"messages\" or"
                + " \"input_ids\"; each output row is one sample and adds \"row\", \"sample\", \"completion\", \"tokens\","
                + " \"finish_reason\" (and \"reward\" with --reward-model).",
            "Sample s of input row r is drawn with a seed made from (--seed, r, s): results do not depend on partitions,"
                + " batches or retries. Sampling settings come from the flags only (generation_config.json's eos_token_id"
                + " is used, its sampling defaults are not)."})
final class GenerateJob implements Callable<Integer> {
    @Option(names = "--model", required = true, paramLabel = "DIR|ORG/NAME", description = "Hugging Face model folder (or Hub id in the local cache).") String model;
    @Option(names = "--adapter", paramLabel = "DIR", description = "A PEFT LoRA adapter over the model.") String adapter;
    @Option(names = "--chat", description = "Render each prompt as a user message through the chat template.") boolean chat;
    @Option(names = "--system", paramLabel = "TEXT", description = "With --chat: a system message first.") String system;
    @Option(names = "--num-samples", defaultValue = "1", paramLabel = "K", description = "Samples per prompt (default: ${DEFAULT-VALUE}).") int numSamples;
    @Option(names = "--max-new-tokens", defaultValue = "64", paramLabel = "N", description = "Default: ${DEFAULT-VALUE}.") int maxNewTokens;
    @Option(names = "--temperature", defaultValue = "0", paramLabel = "T", description = "0 = greedy (default: ${DEFAULT-VALUE}).") double temperature;
    @Option(names = "--top-k", defaultValue = "0", paramLabel = "K", description = "0 = off (default).") int topK;
    @Option(names = "--top-p", defaultValue = "1", paramLabel = "P", description = "1 = off (default).") double topP;
    @Option(names = "--seed", defaultValue = "0", description = "Sampling seed (default: ${DEFAULT-VALUE}).") long seed;
    @Option(names = "--stop", paramLabel = "TEXT", description = "Stop string (repeatable); the output is cut before it.") List<String> stop = new ArrayList<>();
    @Option(names = "--reward-model", paramLabel = "DIR", description = "Score each sample with this reward model (prompt + completion, as a pair's response).") String rewardModel;
    @Option(names = "--reward-adapter", paramLabel = "DIR", description = "With --reward-model: a PEFT adapter holding the score head.") String rewardAdapter;
    @Option(names = "--template", paramLabel = "NAME", defaultValue = "tokenizer",
            description = "The reward model's chat template for samples: tokenizer (default) or a built-in name.") String template;
    @Option(names = "--sequence-len", defaultValue = "4096", description = "Longest scored sample (default: ${DEFAULT-VALUE}).") int sequenceLen;
    @Mixin JobOptions job;
    @Spec CommandSpec spec;

    @Override
    public Integer call() {
        GenerateKernel.Sampling params = new GenerateKernel.Sampling(maxNewTokens, temperature, topK, topP, seed, stop);
        GenerateKernel k = new GenerateKernel(job.input, ModelPaths.resolve("--model", model), ModelPaths.resolve("--adapter", adapter),
                chat, system, params, numSamples, job.batchSize, ModelPaths.resolve("--reward-model", rewardModel),
                ModelPaths.resolve("--reward-adapter", rewardAdapter), template, sequenceLen);
        return Jobs.execute("generate", k, job, spec.commandLine().getParseResult().originalArgs(), spec.commandLine().getOut());
    }
}
