package ai.loro.cli;

import ai.loro.core.model.BatchScoring;
import ai.djl.Device;
import ai.djl.ndarray.types.DataType;
import ai.loro.core.LoroException;
import ai.loro.core.generate.Generator;
import ai.loro.core.generate.SamplingParams;
import ai.loro.core.model.LlamaConfig;
import ai.loro.core.model.LlamaModel;
import ai.loro.core.model.ModelInit;
import ai.loro.core.train.RecipeTraining;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.concurrent.Callable;
import ai.loro.cli.bench.DecodeBench;
import ai.loro.cli.bench.TrainBench;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code loro bench}: throughput of log-probability scoring and of generation (prefill and decode
 * separately), and decode cost per token as the context grows. Medians over {@code --iters}.
 */
@Command(name = "bench", mixinStandardHelpOptions = true,
        description = "Measure logprobs tokens/s, generate prefill/decode tokens/s and decode cost vs context length.")
final class BenchCommand implements Callable<Integer> {
    static final class Source {
        @Option(names = "--config", paramLabel = "CONFIG.json", description = "A model shape, randomly initialised in memory.")
        Path config;
        @Option(names = "--model", paramLabel = "DIR|ORG/NAME", description = ModelOptions.MODEL_HELP)
        Path model;
    }

    @ArgGroup(exclusive = true, multiplicity = "1") Source source;
    @Option(names = "--batch", defaultValue = "1", description = "Sequences per pass (default: ${DEFAULT-VALUE}).") int batch;
    @Option(names = "--seq", defaultValue = "256", description = "Tokens per sequence for logprobs and the prefill (default: ${DEFAULT-VALUE}).") int seq;
    @Option(names = "--new-tokens", defaultValue = "64", description = "Decode steps (default: ${DEFAULT-VALUE}).") int newTokens;
    @Option(names = "--contexts", split = ",", defaultValue = "32,256,1024",
            description = "Context lengths for the decode-cost curve (default: ${DEFAULT-VALUE}).") int[] contexts;
    @Option(names = "--iters", defaultValue = "3", description = "Timed repetitions; the median is reported (default: ${DEFAULT-VALUE}).") int iters;
    @Option(names = "--json", description = "Print only the JSON result.") boolean jsonOnly;
    @Option(names = "--train", paramLabel = "lora|full",
            description = "Measure SFT training steps instead (LoRA r=8 on q/k/v/o, or full fine-tuning): tokens/s and MFU of"
                    + " the full step and of a bare DJL forward+backward baseline.") String train;
    @Option(names = "--steps", defaultValue = "5", description = "With --train: timed steps (default: ${DEFAULT-VALUE}).") int steps;
    @Option(names = "--gradient-checkpointing", description = "With --train: re-run each layer in the backward pass.")
    boolean gradientCheckpointing;
    @Option(names = "--quantize", defaultValue = "none", paramLabel = "none|int8|nf4",
            description = "With --train lora --no-baseline: the frozen base quantized (default: ${DEFAULT-VALUE}).") String quantize;
    @Option(names = "--no-baseline", description = "With --train: skip the bare DJL baseline.") boolean noBaseline;
    @Option(names = "--fp16", description = "The model in fp16 (with --train: fp32 master weights and dynamic loss scaling, no"
            + " baseline; MFU against the measured fp16 matmul rate).") boolean fp16;
    @Option(names = "--profile-decode", description = "Break one single-stream decode step (context --seq, --new-tokens"
            + " timed steps) into its parts: milliseconds per token of each (docs/decode-profile.md).") boolean profileDecode;
    @Option(names = "--decode-only", description = "Only the generate measurement (no logprobs, no context curve), each"
            + " timed iteration's prefill and decode tokens/s listed with min/median/max.") boolean decodeOnly;
    @Option(names = "--prompt-ids", split = ",", paramLabel = "ID,...", description = "With --decode-only: this prompt"
            + " (token ids) for every row instead of --seq random ids.") long[] promptIds;
    @Option(names = "--device", defaultValue = "auto", paramLabel = "cpu|gpu|auto",
            description = "Where the model runs (default: ${DEFAULT-VALUE}: the first GPU DJL sees, else the CPU).") String device;

    @Override
    public Integer call() throws Exception {
        if (batch < 1 || seq < 2 || newTokens < 2 || iters < 1) {
            throw new LoroException("--batch >= 1, --seq >= 2, --new-tokens >= 2 and --iters >= 1 are required");
        }
        Device dev = RecipeTraining.device(device, "--device");
        DataType dtype = fp16 ? DataType.FLOAT16 : DataType.FLOAT32;
        noBaseline |= fp16; // the bare baseline is an fp32 reference
        source.model = ModelOptions.resolveModel("--model", source.model);
        try (LlamaModel model = source.model != null
                ? LlamaModel.load(source.model, dtype, dev)
                : LlamaModel.fromHost(LlamaConfig.read(source.config), ModelInit.randomWeights(LlamaConfig.read(source.config), 0),
                        dtype, dev)) {
            LlamaConfig c = model.config();
            if (train != null) {
                return trainBench(model);
            }
            if (profileDecode) {
                return DecodeBench.profile(model, seq, newTokens, jsonOnly);
            }
            if (decodeOnly) {
                return DecodeBench.decode(model, batch, seq, newTokens, iters, promptIds, jsonOnly);
            }
            SplittableRandom rng = new SplittableRandom(1);
            List<long[]> rows = new ArrayList<>();
            for (int b = 0; b < batch; b++) {
                rows.add(randomIds(rng, seq, c.vocabSize()));
            }
            // logprobs: warm-up passes (libtorch's first passes per shape are several times slower), then timed
            BatchScoring.tokenLogProbs(model, rows);
            BatchScoring.tokenLogProbs(model, rows);
            double[] lpSec = new double[iters];
            for (int i = 0; i < iters; i++) {
                long t0 = System.nanoTime();
                BatchScoring.tokenLogProbs(model, rows);
                lpSec[i] = (System.nanoTime() - t0) / 1e9;
            }
            double logprobsTps = batch * (double) seq / median(lpSec);
            // generation: prefill of --seq tokens, then --new-tokens decode steps
            Generator gen = new Generator(model, Set.of(), null);
            SamplingParams greedy = new SamplingParams(newTokens, 0, 0, 1, 0, List.of(), false);
            gen.generate(rows, greedy);
            gen.generate(rows, greedy);
            double[] prefill = new double[iters];
            double[] decode = new double[iters];
            for (int i = 0; i < iters; i++) {
                gen.generate(rows, greedy);
                Generator.Timing t = gen.lastTiming();
                prefill[i] = t.prefillTokens() / (t.prefillNanos() / 1e9);
                decode[i] = t.decodeTokens() / (t.decodeNanos() / 1e9);
            }
            // decode cost per token against context length (batch 1)
            ObjectMapper json = new ObjectMapper();
            ArrayNode curve = json.createArrayNode();
            SamplingParams shortRun = new SamplingParams(17, 0, 0, 1, 0, List.of(), false);
            for (int ctx : contexts) {
                List<long[]> one = List.of(randomIds(rng, ctx, c.vocabSize()));
                gen.generate(one, shortRun);
                double[] ms = new double[iters];
                for (int i = 0; i < iters; i++) {
                    gen.generate(one, shortRun);
                    Generator.Timing t = gen.lastTiming();
                    ms[i] = t.decodeNanos() / 1e6 / t.decodeSteps();
                }
                curve.addObject().put("context", ctx).put("decode_ms_per_token", round(median(ms)));
            }
            ObjectNode result = json.createObjectNode();
            result.put("model", source.model != null ? source.model.toString() : source.config.toString());
            result.put("parameters", c.parameterCount());
            result.put("hidden_size", c.hiddenSize()).put("layers", c.numHiddenLayers()).put("vocab_size", c.vocabSize());
            result.put("batch", batch).put("seq", seq).put("new_tokens", newTokens).put("iters", iters);
            result.put("threads", Runtime.getRuntime().availableProcessors());
            result.put("logprobs_tokens_per_s", round(logprobsTps));
            result.put("prefill_tokens_per_s", round(median(prefill)));
            result.put("decode_tokens_per_s", round(median(decode)));
            result.set("decode_cost", curve);
            result.put("peak_rss_mb", TrainBench.peakRssMb());
            if (!jsonOnly) {
                System.out.printf("model %s: %,d parameters (hidden %d, %d layers, vocab %d), batch %d, %d CPU threads%n",
                        result.get("model").asText(), c.parameterCount(), c.hiddenSize(), c.numHiddenLayers(), c.vocabSize(),
                        batch, Runtime.getRuntime().availableProcessors());
                System.out.printf("%-34s %12s%n", "measure", "value");
                System.out.printf("%-34s %12.1f%n", "logprobs tokens/s (seq " + seq + ")", logprobsTps);
                System.out.printf("%-34s %12.1f%n", "generate prefill tokens/s", median(prefill));
                System.out.printf("%-34s %12.1f%n", "generate decode tokens/s", median(decode));
                System.out.printf("%-34s %12d%n", "peak resident memory (MB)", TrainBench.peakRssMb());
                for (var p : curve) {
                    System.out.printf("%-34s %12.2f%n", "decode ms/token @ context " + p.get("context").asInt(),
                            p.get("decode_ms_per_token").asDouble());
                }
            }
            System.out.println(json.writeValueAsString(result));
        }
        return 0;
    }

    private int trainBench(LlamaModel model) throws Exception {
        if (!train.equals("lora") && !train.equals("full")) {
            throw new LoroException("--train must be lora or full, got " + train);
        }
        if (!List.of("none", "int8", "nf4").contains(quantize)) {
            throw new LoroException("--quantize must be none, int8 or nf4, got " + quantize);
        }
        TrainBench.Figures f = TrainBench.run(model, new TrainBench.Options(train.equals("lora"), quantize, gradientCheckpointing,
                !noBaseline), batch, seq, steps, Path.of(System.getProperty("java.io.tmpdir")));
        LlamaConfig c = model.config();
        ObjectMapper json = new ObjectMapper();
        ObjectNode r = json.createObjectNode();
        r.put("model", source.model != null ? source.model.toString() : source.config.toString());
        r.put("parameters", c.parameterCount()).put("mode", train).put("batch", batch).put("seq", seq);
        r.put("threads", Runtime.getRuntime().availableProcessors());
        r.put("step_s", Math.round(f.stepSeconds() * 1e4) / 1e4).put("tokens_per_s", round(f.tokensPerSecond()));
        if (!noBaseline) {
            r.put("bare_step_s", Math.round(f.bareStepSeconds() * 1e4) / 1e4).put("bare_tokens_per_s", round(f.bareTokensPerSecond()));
            r.put("overhead_vs_bare", round(f.stepSeconds() / f.bareStepSeconds() - 1));
        }
        r.put("model_gflops_per_token", round(f.modelFlopsPerToken() / 1e9 * 1000) / 1000);
        r.put("matmul_gflops", round(f.matmulGflops()));
        r.put("mfu", Math.round(f.mfu() * 10000) / 10000.0);
        if (!noBaseline) {
            r.put("bare_mfu", Math.round(f.bareMfu() * 10000) / 10000.0);
        }
        r.put("quantize", quantize).put("gradient_checkpointing", gradientCheckpointing);
        r.put("step_peak_rss_mb", f.stepPeakRssMb());
        r.put("dtype", fp16 ? "fp16" : "fp32").put("device", model.manager().getDevice().toString());
        if (f.gpuMemoryUsedMb() >= 0) {
            r.put("gpu_memory_used_mb", f.gpuMemoryUsedMb());
        }
        r.put("peak_rss_mb", TrainBench.peakRssMb());
        if (!jsonOnly) {
            System.out.printf("%s training on %s, %,d parameters, batch %d x seq %d, %d CPU threads, %s matmul peak %.1f GFLOP/s%n",
                    train, model.manager().getDevice(), c.parameterCount(), batch, seq, Runtime.getRuntime().availableProcessors(),
                    fp16 ? "fp16" : "fp32", f.matmulGflops());
            System.out.printf("%-28s %10s %12s %8s%n", "", "step s", "tokens/s", "MFU");
            System.out.printf("%-28s %10.3f %12.1f %7.1f%%%n", "Loro SFT step (full loop)", f.stepSeconds(), f.tokensPerSecond(), 100 * f.mfu());
            if (!noBaseline) {
                System.out.printf("%-28s %10.3f %12.1f %7.1f%%%n", "bare DJL forward+backward", f.bareStepSeconds(), f.bareTokensPerSecond(),
                        100 * f.bareMfu());
                System.out.printf("overhead of the full step over the bare baseline: %+.1f%%%n", 100 * (f.stepSeconds() / f.bareStepSeconds() - 1));
            }
            System.out.printf("peak resident memory after the Loro steps: %d MB (quantize %s, gradient checkpointing %s);"
                    + " of the whole process: %d MB%n", f.stepPeakRssMb(), quantize, gradientCheckpointing, TrainBench.peakRssMb());
            if (f.gpuMemoryUsedMb() >= 0) {
                System.out.printf("GPU memory in use after the steps (libtorch's caching allocator included): %d MB%n", f.gpuMemoryUsedMb());
            }
        }
        System.out.println(json.writeValueAsString(r));
        return 0;
    }

    static long[] randomIds(SplittableRandom rng, int n, int vocab) {
        long[] ids = new long[n];
        for (int i = 0; i < n; i++) {
            ids[i] = rng.nextInt(vocab);
        }
        return ids;
    }

    static double median(double[] v) {
        double[] s = v.clone();
        Arrays.sort(s);
        return s.length % 2 == 1 ? s[s.length / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
    }

    private static double round(double v) {
        return Math.round(v * 100) / 100.0;
    }
}
