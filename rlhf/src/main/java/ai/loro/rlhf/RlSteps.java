package ai.loro.rlhf;

import ai.djl.Device;
import ai.djl.engine.Engine;
import ai.djl.ndarray.NDManager;
import ai.loro.core.recipe.Recipe;
import ai.loro.core.train.MetricsLog;
import ai.loro.core.train.TrainLoop;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.nio.file.Path;
import java.util.Map;

/**
 * The step frame PPO ({@link PpoStage}) and GRPO ({@link GrpoStage}) share: how many steps a run
 * takes, each step's seed, when a step saves or logs, its timings, and the manager and logs a run
 * holds while it steps.
 */
final class RlSteps {
    private RlSteps() {}

    /** {@code max_steps}, else {@code num_epochs} passes over {@code prompts} prompts, {@code perStep} a step (at least 1). */
    static int count(Recipe r, int prompts, int perStep) {
        return r.maxSteps().isPresent() ? r.maxSteps().getAsInt()
                : (int) Math.max(1, Math.ceil(r.numEpochs() * prompts / perStep));
    }

    /** Step {@code k}'s seed ({@link TrainLoop#stepSeed}), also set as the engine's, so every draw is a function of (seed, step). */
    static int seed(long seed, int k) {
        int stepSeed = TrainLoop.stepSeed(seed, k);
        Engine.getInstance().setRandomSeed(stepSeed);
        return stepSeed;
    }

    /** Whether step {@code done} of {@code steps} is one to act on every {@code every} steps (the last always is). */
    static boolean due(int done, int every, int steps) {
        return done % every == 0 || done == steps;
    }

    /** Adds a step's timings (nanoTime before generation, scoring, update, and after it) to {@code m} in logging order. */
    static void putTimes(Map<String, Double> m, long t0, long t1, long t2, long t3) {
        m.put("time/generation_s", (t1 - t0) / 1e9);
        m.put("time/scoring_s", (t2 - t1) / 1e9);
        m.put("time/optimization_s", (t3 - t2) / 1e9);
    }

    /**
     * What a run holds while it steps, closed together: the base manager every step's arrays hang
     * from, {@code metrics.jsonl} and {@code samples.jsonl} (both continued after {@code start} steps).
     */
    record Logs(NDManager base, MetricsLog metrics, MetricsLog samples) implements AutoCloseable {
        static Logs open(Path out, int start, Device device, String name) {
            NDManager base = NDManager.newBaseManager(device);
            base.setName(name);
            MetricsLog metrics = null;
            try {
                metrics = new MetricsLog(out.resolve("metrics.jsonl"), start);
                return new Logs(base, metrics, new MetricsLog(out.resolve("samples.jsonl"), start));
            } catch (RuntimeException e) {
                if (metrics != null) {
                    metrics.close();
                }
                base.close();
                throw e;
            }
        }

        /** Step {@code done}'s line in metrics.jsonl: the learning rate, then {@code m} in its order. */
        void write(int done, double lr, Map<String, Double> m) {
            ObjectNode line = MetricsLog.line(done, "train");
            MetricsLog.put(line, "lr", lr);
            m.forEach((key, v) -> MetricsLog.put(line, key, v));
            metrics.write(line);
        }

        @Override
        public void close() {
            try (base; metrics) {
                samples.close();
            }
        }
    }
}
