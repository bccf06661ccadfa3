package ai.loro.core.train;

import ai.loro.core.model.NoGrad;
import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import ai.djl.ndarray.types.DataType;
import ai.loro.core.LoroException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.PrintStream;
import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import me.tongfei.progressbar.ConsoleProgressBarConsumer;
import me.tongfei.progressbar.ProgressBar;
import me.tongfei.progressbar.ProgressBarBuilder;
import me.tongfei.progressbar.ProgressBarStyle;

/**
 * The training loop shared by every stage. For each optimizer step {@code k} in
 * {@code [start, maxSteps)}:
 * <ol>
 *   <li>reseed the engine from {@code (seed, k)}, so a resumed run replays the same random draws;
 *   <li>for each micro-batch: a fresh sub-manager and {@link NDScope}, an {@link OptimizerStep#pass()},
 *       the caller's {@link MicroBatchLoss}, backward of the summed loss (gradients accumulate);
 *   <li>divide the gradients by the step's total loss-token count and clip them to
 *       {@code maxGradNorm} in one pass (so accumulation equals one big batch);
 *   <li>the {@link OptimizerStep}: stop with a {@link LoroException} if the loss or the gradient norm
 *       is not finite (with fp16 parameters an overflow is skipped instead while the
 *       {@link LossScaler} backs off), else AdamW update with the schedule's {@code lr(k)};
 *       gradients are zeroed;
 *   <li>log, evaluate and checkpoint at their intervals.
 * </ol>
 */
public final class TrainLoop {
    /** How a run ended: completed steps, the last logged train loss, the newest checkpoint. */
    public record Result(int steps, double lastLoss, Optional<Path> lastCheckpoint) {}

    /** Gradients of one step, ready for the update. */
    public record StepStats(double loss, long tokens, double gradNorm, Map<String, Double> metrics) {}

    /** Tests only: draw the progress bar here even without a console. */
    static PrintStream progressStream;

    private final TrainConfig config;
    private final Map<String, NDArray> trainable;
    private final AdamW optimizer;
    private final Schedule schedule;
    private final MicroBatchLoss loss;
    private EvalLoss eval;
    private DataCursor data;
    private OptimizerStep step; // its loss scaler is non-null when a trainable parameter is fp16

    /**
     * @param trainable the parameters to train, by name (as saved in checkpoints); every other
     *     parameter must not require a gradient
     * @param optimizer an AdamW over exactly {@code trainable}
     */
    public TrainLoop(TrainConfig config, Map<String, NDArray> trainable, AdamW optimizer, Schedule schedule,
                     MicroBatchLoss loss) {
        this.config = config;
        this.trainable = java.util.Collections.unmodifiableMap(new LinkedHashMap<>(trainable));
        this.optimizer = optimizer;
        this.schedule = schedule;
        this.loss = loss;
        if (optimizer.gradients().size() != trainable.size()) {
            throw new IllegalArgumentException("the optimizer covers " + optimizer.gradients().size()
                    + " parameters but " + trainable.size() + " are trainable");
        }
        this.step = new OptimizerStep(optimizer, LossScaler.forOptimizer(optimizer), config.maxGradNorm());
    }

    /** Replaces the default dynamic loss scaler of an fp16 run (tests: a scale that overflows at once). */
    public TrainLoop lossScaler(LossScaler s) {
        if (step.scaler() == null) {
            throw new IllegalStateException("loss scaling applies only to fp16 parameters");
        }
        this.step = new OptimizerStep(optimizer, s, config.maxGradNorm());
        return this;
    }

    /** Evaluates every {@code evalSteps} steps. */
    public TrainLoop eval(EvalLoss eval) {
        this.eval = eval;
        return this;
    }

    /** Saves the data position with each checkpoint and restores it on resume. */
    public TrainLoop data(DataCursor data) {
        this.data = data;
        return this;
    }

    /** The per-step seed: a SplitMix64 mix of (seed, step), folded to an int for {@code Engine.setRandomSeed}. */
    public static int stepSeed(long seed, int step) {
        long z = seed + 0x9E3779B97F4A7C15L * (step + 1L);
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        z = z ^ (z >>> 31);
        return (int) (z ^ (z >>> 32)) & 0x7fffffff;
    }

    public Result run() {
        Path out = config.outputDir();
        long seed = config.seed();
        int start = 0;
        if (config.resume()) {
            Optional<Path> ckpt = Checkpoints.latest(out);
            if (ckpt.isPresent()) {
                ObjectNode state = Checkpoints.readState(ckpt.get());
                start = state.path("step").asInt();
                seed = state.path("seed").asLong(seed);
                step.restore(ckpt.get(), state, trainable);
                if (data != null && state.has("data")) {
                    data.seek(state.get("data"));
                }
            }
        }
        optimizer.gradients().zero(); // a stray backward before the run must not leak into step one
        NDManager base = NDManager.newBaseManager(trainable.values().iterator().next().getDevice());
        base.setName("train-loop");
        Optional<Path> lastCheckpoint = Checkpoints.latest(out);
        double lastLoss = Double.NaN;
        try (base; MetricsLog log = new MetricsLog(out.resolve("metrics.jsonl"), start);
             Progress progress = Progress.open(config, start)) {
            Window window = new Window();
            for (int k = start; k < config.maxSteps(); k++) {
                int done = k + 1;
                StepStats s = computeGradients(base, k, seed);
                double lr = schedule.lr(k);
                OptimizerStep.Outcome o = step.apply(s.loss(), s.gradNorm(), lr, (loss, norm) ->
                        (!Double.isFinite(loss) ? "loss became " + loss : "gradient norm became " + norm) + " at step " + done
                                + "; last good checkpoint: " + Checkpoints.latest(out).map(Path::toString).orElse("none"));
                boolean overflow = o.skipped();
                window.add(s, lr, overflow);
                if (done % config.loggingSteps() == 0 || done == config.maxSteps()) {
                    lastLoss = window.loss();
                    ObjectNode line = MetricsLog.line(done, "train");
                    MetricsLog.put(line, "loss", lastLoss);
                    MetricsLog.put(line, "lr", lr);
                    MetricsLog.put(line, "grad_norm", overflow ? Double.NaN : s.gradNorm());
                    if (step.scaler() != null) {
                        MetricsLog.put(line, "loss_scale", o.lossScale()); // as calibrated, before this step's update
                        MetricsLog.put(line, "skipped_steps", window.skipped());
                    }
                    MetricsLog.put(line, "tokens_per_second", window.tokensPerSecond());
                    MetricsLog.put(line, "epoch", data == null ? Double.NaN : data.epoch());
                    window.metrics().forEach((key, value) -> MetricsLog.put(line, key, value));
                    log.write(line);
                    progress.update(done, lastLoss, lr, window.tokensPerSecond());
                    window = new Window();
                } else {
                    progress.update(done, Double.NaN, lr, Double.NaN);
                }
                if (eval != null && config.evalSteps() > 0 && done % config.evalSteps() == 0) {
                    log.write(evaluate(base, done));
                }
                if (config.saveSteps() > 0 && (done % config.saveSteps() == 0 || done == config.maxSteps())) {
                    lastCheckpoint = Optional.of(save(done, seed, s.loss()));
                }
            }
        }
        return new Result(Math.max(start, config.maxSteps()), lastLoss, lastCheckpoint);
    }

    /**
     * Steps 1–3 of the loop for step {@code k}: reseed, run every micro-batch forward and backward,
     * normalise by the step's token count and clip. Leaves the step's gradients in the parameters.
     */
    public StepStats computeGradients(NDManager base, int k, long seed) {
        Engine.getInstance().setRandomSeed(stepSeed(seed, k));
        double lossSum = 0;
        long tokens = 0;
        Map<String, Double> metrics = new LinkedHashMap<>();
        int n = config.gradientAccumulationSteps();
        for (int micro = 0; micro < n; micro++) {
            try (NDManager mb = base.newSubManager(); NDScope ignored = new NDScope(); OptimizerStep.Pass pass = step.pass()) {
                MicroBatchLoss.Result r = loss.compute(mb, k, micro);
                if (step.scaler() != null) {
                    step.scaler().calibrate(r.tokens() * (long) n); // the first step of a fresh run only
                }
                if (r.tokens() < 0) {
                    throw new IllegalArgumentException("negative token count " + r.tokens());
                }
                lossSum += r.lossSum().toType(DataType.FLOAT64, false).getDouble();
                tokens += r.tokens();
                r.metrics().forEach((key, value) -> metrics.merge(key, value / n, Double::sum));
                pass.backward(r.lossSum());
            }
        }
        if (tokens == 0) {
            optimizer.gradients().zero();
            throw new LoroException("step " + (k + 1) + " has no loss tokens in any of its " + n
                    + " micro-batches (every label is masked)");
        }
        double gradNorm = step.clip(1.0 / tokens);
        return new StepStats(lossSum / tokens, tokens, gradNorm, metrics);
    }

    private ObjectNode evaluate(NDManager base, int done) {
        EvalLoss.Result r;
        try (NDManager m = base.newSubManager(); NDScope ignored = new NDScope(); NoGrad ng = new NoGrad()) {
            r = eval.evaluate(m, done);
        }
        double l = r.tokens() == 0 ? Double.NaN : r.lossSum() / r.tokens();
        ObjectNode line = MetricsLog.line(done, "eval");
        MetricsLog.put(line, "loss", l);
        MetricsLog.put(line, "perplexity", Math.exp(l));
        MetricsLog.put(line, "epoch", data == null ? Double.NaN : data.epoch());
        r.metrics().forEach((key, value) -> MetricsLog.put(line, key, value));
        return line;
    }

    private Path save(int done, long seed, double stepLoss) {
        ObjectNode state = MetricsLog.JSON.createObjectNode();
        state.put("format", 1);
        state.put("step", done);
        state.put("seed", seed);
        state.put("max_steps", config.maxSteps());
        state.put("gradient_accumulation_steps", config.gradientAccumulationSteps());
        MetricsLog.put(state, "loss", stepLoss);
        if (step.scaler() != null) {
            step.scaler().save(state);
        }
        ObjectNode opt = state.putObject("optimizer");
        opt.put("step", optimizer.stepCount());
        opt.put("beta1", optimizer.options().beta1());
        opt.put("beta2", optimizer.options().beta2());
        opt.put("eps", optimizer.options().eps());
        opt.put("weight_decay", optimizer.options().weightDecay());
        ObjectNode sch = state.putObject("schedule");
        sch.put("kind", schedule.kind().id());
        sch.put("base_lr", schedule.baseLr());
        sch.put("warmup_steps", schedule.warmupSteps());
        sch.put("total_steps", schedule.totalSteps());
        sch.put("next_lr", schedule.lr(done));
        if (data != null) {
            JsonNode pos = data.position();
            state.set("data", pos == null ? MetricsLog.JSON.nullNode() : pos);
        }
        return Checkpoints.save(config.outputDir(), done, trainable, optimizer.state(), state, config.saveTotalLimit());
    }

    /** Running sums between two train log lines. */
    private static final class Window {
        private final long startNanos = System.nanoTime();
        private double lossSum;
        private int steps;
        private int skipped;
        private long tokens;
        private final Map<String, Double> metricSums = new LinkedHashMap<>();

        void add(StepStats s, double lr, boolean skippedStep) {
            skipped += skippedStep ? 1 : 0;
            lossSum += s.loss();
            steps++;
            tokens += s.tokens();
            s.metrics().forEach((k, v) -> metricSums.merge(k, v, Double::sum));
        }

        double loss() {
            return lossSum / steps;
        }

        int skipped() {
            return skipped;
        }

        double tokensPerSecond() {
            double secs = (System.nanoTime() - startNanos) / 1e9;
            return secs > 0 ? tokens / secs : Double.NaN;
        }

        Map<String, Double> metrics() {
            Map<String, Double> out = new LinkedHashMap<>();
            metricSums.forEach((k, v) -> out.put(k, v / steps));
            return out;
        }
    }

    /** The progress bar on stderr, or nothing when disabled or not on a console. */
    private static final class Progress implements AutoCloseable {
        private final ProgressBar bar;
        private String lastMessage = "";

        private Progress(ProgressBar bar) {
            this.bar = bar;
        }

        static Progress open(TrainConfig c, int start) {
            PrintStream to = progressStream != null ? progressStream : System.console() != null ? System.err : null;
            if (!c.progressBar() || to == null) {
                return new Progress(null);
            }
            ProgressBar bar = new ProgressBarBuilder()
                    .setTaskName("train")
                    .setInitialMax(c.maxSteps())
                    .setStyle(ProgressBarStyle.ASCII)
                    .setConsumer(new ConsoleProgressBarConsumer(to))
                    .setUpdateIntervalMillis(500)
                    .startsFrom(start, Duration.ZERO)
                    .build();
            return new Progress(bar);
        }

        void update(int step, double loss, double lr, double tokensPerSecond) {
            if (bar == null) {
                return;
            }
            if (Double.isFinite(loss)) {
                lastMessage = String.format(java.util.Locale.ROOT, "loss %.4f lr %.3g %.0f tok/s", loss, lr, tokensPerSecond);
            }
            bar.stepTo(step);
            bar.setExtraMessage(lastMessage);
        }

        @Override
        public void close() {
            if (bar != null) {
                bar.close();
            }
        }
    }
}
