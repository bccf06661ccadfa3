package ai.loro.cli.bench;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.util.cuda.CudaUtils;
import ai.loro.core.LoroException;
import ai.loro.core.model.HfNames;
import ai.loro.core.model.LlamaConfig;
import ai.loro.core.model.LlamaModel;
import ai.loro.core.model.QuantizedBase;
import ai.loro.core.train.AdamW;
import ai.loro.core.train.DataCursor;
import ai.loro.core.train.MicroBatchLoss;
import ai.loro.core.train.Schedule;
import ai.loro.core.train.TrainConfig;
import ai.loro.core.train.TrainLoop;
import ai.loro.datasets.Batch;
import ai.loro.datasets.Collator;
import ai.loro.datasets.Example;
import ai.loro.lora.LoraAdapter;
import ai.loro.lora.LoraConfig;
import ai.loro.sft.SftLoss;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.LongNode;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * Training throughput: the framework's full SFT step (collation, loss masks, LoRA, AdamW, clipping,
 * metrics.jsonl) through {@link TrainLoop}, against {@link BareTrainStep} on the same shape, and
 * MFU against the measured fp32 matmul rate.
 */
public final class TrainBench {
    private TrainBench() {}

    /**
     * @param stepPeakRssMb the process's peak resident memory (MB) when the Loro steps end, before the
     *     bare baseline runs; -1 where /proc is unavailable
     * @param bareStepSeconds NaN when the baseline was not run
     */
    public record Figures(double stepSeconds, double tokensPerSecond, double bareStepSeconds, double bareTokensPerSecond,
                          double modelFlopsPerToken, double matmulGflops, double mfu, double bareMfu, long stepPeakRssMb,
                          long gpuMemoryUsedMb) {}

    /** What {@link #run} measures: LoRA or full, quantized base, gradient checkpointing, the bare baseline or not. */
    public record Options(boolean lora, String quantize, boolean gradientCheckpointing, boolean baseline) {}

    /** Sustained fp32 matmul rate: median of timed square products (GFLOP/s). */
    public static double matmulGflops(NDManager m, int n, int reps) {
        return matmulGflops(m, n, reps, DataType.FLOAT32);
    }

    /** Sustained matmul rate in {@code dtype} on {@code m}'s device: median of timed square products (GFLOP/s). */
    public static double matmulGflops(NDManager m, int n, int reps, DataType dtype) {
        NDArray a = m.randomNormal(new Shape(n, n)).toType(dtype, false);
        NDArray b = m.randomNormal(new Shape(n, n)).toType(dtype, false);
        a.matMul(b).close();
        double[] rates = new double[reps];
        for (int i = 0; i < reps; i++) {
            long t0 = System.nanoTime();
            NDArray c = a.matMul(b);
            c.getFloat(0, 0);
            rates[i] = 2.0 * n * n * n / ((System.nanoTime() - t0) / 1e9) / 1e9;
            c.close();
        }
        Arrays.sort(rates);
        return rates[reps / 2];
    }

    /**
     * Training FLOPs per token (PaLM appendix B): a forward pass costs 2 per weight of every matmul
     * (lm_head included, embedding lookup excluded) plus 4·L·T·H·D for attention; full fine-tuning
     * does 3 forward passes' worth, LoRA 2 (the frozen weights need no weight gradients).
     */
    public static double flopsPerToken(LlamaConfig c, int seq, boolean lora) {
        double matmulParams = 0;
        for (HfNames.Proj p : HfNames.Proj.values()) {
            matmulParams += (double) p.inFeatures(c) * p.outFeatures(c);
        }
        matmulParams = matmulParams * c.numHiddenLayers() + (double) c.vocabSize() * c.hiddenSize();
        double forward = 2 * matmulParams + 4.0 * c.numHiddenLayers() * seq * c.numAttentionHeads() * c.headDim();
        return forward * (lora ? 2 : 3);
    }

    public static Figures run(LlamaModel model, boolean lora, int batch, int seq, int steps, Path workDir) throws Exception {
        return run(model, new Options(lora, "none", false, true), batch, seq, steps, workDir);
    }

    public static Figures run(LlamaModel model, Options o, int batch, int seq, int steps, Path workDir) throws Exception {
        boolean lora = o.lora();
        LlamaConfig c = model.config();
        if (!o.quantize().equals("none") && (!lora || o.baseline())) {
            throw new LoroException("--quantize needs --train lora and --no-baseline (the bare baseline has no quantized path)");
        }
        QuantizedBase.quantize(model, o.quantize());
        model.setGradientCheckpointing(o.gradientCheckpointing());
        SplittableRandom rng = new SplittableRandom(5);
        List<Example> examples = new ArrayList<>();
        for (int b = 0; b < batch; b++) {
            long[] ids = new long[seq];
            boolean[] mask = new boolean[seq];
            for (int i = 0; i < seq; i++) {
                ids[i] = rng.nextInt(c.vocabSize());
                mask[i] = i >= seq / 4; // a prompt quarter without loss, as in instruction data
            }
            examples.add(new Example(ids, mask, "bench"));
        }
        Batch batchData = Collator.collate(examples, 0);
        Map<String, NDArray> trainable;
        LoraAdapter adapter = null;
        if (lora) {
            adapter = LoraAdapter.create(model, LoraConfig.of(8, 16, 0.0, "q_proj", "k_proj", "v_proj", "o_proj"), 1);
            adapter.attach(model);
            adapter.setTraining(true);
            trainable = adapter.parameters();
        } else {
            trainable = new LinkedHashMap<>(model.parameters());
            trainable.values().forEach(p -> p.setRequiresGradient(true));
        }
        Path out = Files.createTempDirectory(workDir, "bench-train");
        int warm = 2;
        TrainConfig config = TrainConfig.builder(out, warm + steps).loggingSteps(1).progressBar(false).build();
        long[] stepEnds = new long[warm + steps + 1];
        MicroBatchLoss loss = (m, step, micro) -> {
            stepEnds[step] = System.nanoTime();
            NDArray[] nll = SftLoss.nllSum(model, batchData, m);
            return new MicroBatchLoss.Result(nll[0], SftLoss.count(nll[1]));
        };
        DataCursor cursor = new DataCursor() {
            public JsonNode position() {
                return LongNode.valueOf(0);
            }

            public void seek(JsonNode position) {}

            public double epoch() {
                return 0;
            }
        };
        try (AdamW opt = new AdamW(trainable, AdamW.Options.defaults())) {
            new TrainLoop(config, trainable, opt, new Schedule(Schedule.Kind.CONSTANT, 1e-4, 0, warm + steps), loss)
                    .data(cursor).run();
        }
        long end = System.nanoTime();
        stepEnds[warm + steps] = end;
        double[] stepSec = new double[steps];
        for (int i = 0; i < steps; i++) {
            stepSec[i] = (stepEnds[warm + i + 1] - stepEnds[warm + i]) / 1e9;
        }
        double step = median(stepSec);
        long stepPeak = peakRssMb();
        Device device = model.manager().getDevice();
        long gpuMb = device.isGpu() ? CudaUtils.getGpuMemory(device).getUsed() / (1024 * 1024) : -1;
        if (adapter != null) {
            adapter.detach();
        }
        double tokens = (double) batch * seq;
        double fpt = flopsPerToken(c, seq, lora);
        double peak;
        try (NDManager m = NDManager.newBaseManager(device)) {
            peak = matmulGflops(m, device.isGpu() ? 8192 : 1024, 7, model.dtype());
        }
        if (!o.baseline()) {
            return new Figures(step, tokens / step, Double.NaN, Double.NaN, fpt, peak, fpt * tokens / step / (peak * 1e9),
                    Double.NaN, stepPeak, gpuMb);
        }
        // the bare baseline on the same weights, shape and tokens
        Map<String, NDArray[]> loraAb = new LinkedHashMap<>();
        double bareStep;
        try (NDManager m = NDManager.newBaseManager()) {
            Map<String, NDArray> weights = new LinkedHashMap<>();
            for (Map.Entry<String, NDArray> e : model.parameters().entrySet()) {
                NDArray copy = e.getValue().duplicate();
                copy.attach(m);
                weights.put(e.getKey(), copy);
            }
            if (lora) {
                for (int l = 0; l < c.numHiddenLayers(); l++) {
                    for (HfNames.Proj p : List.of(HfNames.Proj.Q, HfNames.Proj.K, HfNames.Proj.V, HfNames.Proj.O)) {
                        loraAb.put(HfNames.module(l, p), new NDArray[] {
                            m.randomNormal(new Shape(8, p.inFeatures(c))).mul(0.01), m.zeros(new Shape(p.outFeatures(c), 8))});
                    }
                }
            }
            BareTrainStep bare = new BareTrainStep(weights, loraAb, 2.0, c.numHiddenLayers(), c.numAttentionHeads(),
                    c.numKeyValueHeads(), c.headDim(), c.rmsNormEps(), c.ropeTheta(), seq, m);
            long[] flat = new long[batch * seq];
            for (int b = 0; b < batch; b++) {
                System.arraycopy(batchData.inputIds()[b], 0, flat, b * seq, seq);
            }
            double[] bareSec = new double[steps];
            for (int i = 0; i < warm + steps; i++) {
                try (NDScope scope = new NDScope(); NDManager sm = m.newSubManager()) {
                    scope.suppressNotUsedWarning();
                    long t0 = System.nanoTime();
                    bare.step(sm.create(flat, new Shape(batch, seq)), 1e-4f);
                    if (i >= warm) {
                        bareSec[i - warm] = (System.nanoTime() - t0) / 1e9;
                    }
                }
            }
            bareStep = median(bareSec);
        }
        return new Figures(step, tokens / step, bareStep, tokens / bareStep, fpt, peak,
                fpt * tokens / step / (peak * 1e9), fpt * tokens / bareStep / (peak * 1e9), stepPeak, gpuMb);
    }

    /** The process's peak resident set (VmHWM), in MB; -1 where /proc is unavailable. */
    public static long peakRssMb() {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
                if (line.startsWith("VmHWM:")) {
                    return Long.parseLong(line.replaceAll("[^0-9]", "")) / 1024;
                }
            }
        } catch (java.io.IOException | NumberFormatException e) {
            return -1;
        }
        return -1;
    }

    static double median(double[] v) {
        double[] s = v.clone();
        Arrays.sort(s);
        return s.length % 2 == 1 ? s[s.length / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
    }

}
