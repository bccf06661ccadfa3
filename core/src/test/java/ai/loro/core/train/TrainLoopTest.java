package ai.loro.core.train;

import static org.junit.jupiter.api.Assertions.*;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.training.GradientCollector;
import ai.loro.core.LoroException;
import ai.loro.core.io.SafeTensorsFile;
import ai.loro.core.model.LlamaModel;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class TrainLoopTest {
    @TempDir
    Path dir;

    private static AdamW adam(Map<String, NDArray> params) {
        return new AdamW(params, AdamW.Options.defaults().withWeightDecay(0.01, true));
    }

    private static List<JsonNode> metrics(Path out) throws IOException {
        List<JsonNode> lines = new ArrayList<>();
        for (String l : Files.readAllLines(out.resolve("metrics.jsonl"))) {
            lines.add(new ObjectMapper().readTree(l));
        }
        return lines;
    }

    @Test
    void lossFallsOverThirtyStepsAndMetricsAreLogged() throws IOException {
        TinyTask task = new TinyTask(16, 2, 1, false);
        try (LlamaModel model = TinyTask.model(DataType.FLOAT32); AdamW opt = adam(model.parameters())) {
            TrainConfig cfg = TrainConfig.builder(dir, 30).gradientAccumulationSteps(2).loggingSteps(1).evalSteps(10)
                    .progressBar(false).build();
            Schedule sched = new Schedule(Schedule.Kind.COSINE, 1e-2, 3, 30);
            TinyTask evalTask = new TinyTask(4, 4, 99, false);
            TrainLoop.Result r = new TrainLoop(cfg, model.parameters(), opt, sched, task.loss(model))
                    .data(task.cursor)
                    .eval((m, step) -> {
                        MicroBatchLoss.Result e = evalTask.lossOf(model, m, 0, 1, 2, 3);
                        return new EvalLoss.Result(e.lossSum().getFloat(), e.tokens(), Map.of("eval_calls", 1.0));
                    })
                    .run();
            assertEquals(30, r.steps());
            List<JsonNode> lines = metrics(dir);
            List<JsonNode> train = lines.stream().filter(n -> n.get("split").asText().equals("train")).toList();
            List<JsonNode> eval = lines.stream().filter(n -> n.get("split").asText().equals("eval")).toList();
            assertEquals(30, train.size());
            assertEquals(3, eval.size());
            JsonNode first = train.get(0);
            for (String key : List.of("step", "loss", "lr", "grad_norm", "tokens_per_second", "epoch")) {
                assertTrue(first.has(key) && first.get(key).isNumber(), key + " in " + first);
            }
            assertEquals(1, first.get("step").asInt());
            assertEquals(0.0, first.get("lr").asDouble(), "warmup starts at 0");
            assertEquals(sched.lr(9), train.get(9).get("lr").asDouble(), 0);
            assertEquals(30 * 2 * 2 / 16.0, train.get(29).get("epoch").asDouble(), 1e-12);
            double early = (train.get(0).get("loss").asDouble() + train.get(1).get("loss").asDouble()) / 2;
            double late = (train.get(28).get("loss").asDouble() + train.get(29).get("loss").asDouble()) / 2;
            assertTrue(late < 0.7 * early, "loss " + early + " -> " + late);
            JsonNode e0 = eval.get(0);
            assertEquals(10, e0.get("step").asInt());
            assertEquals(Math.exp(e0.get("loss").asDouble()), e0.get("perplexity").asDouble(), 1e-9);
            assertEquals(1.0, e0.get("eval_calls").asDouble());
            assertTrue(eval.get(2).get("loss").asDouble() < eval.get(0).get("loss").asDouble());
        }
    }

    /** Two micro-batches with 7 and 2 loss tokens give the gradient of one batch of both (fp64). */
    @Test
    void accumulationEqualsOneBigBatch() {
        TinyTask task = new TinyTask(2, 1, 5, false);
        task.lengths[0] = 8;
        task.lengths[1] = 3;
        try (LlamaModel a = TinyTask.model(DataType.FLOAT64); LlamaModel b = TinyTask.model(DataType.FLOAT64);
             AdamW opt = adam(a.parameters()); NDManager base = NDManager.newBaseManager()) {
            int[] next = {0};
            TrainConfig cfg = TrainConfig.builder(dir, 1).gradientAccumulationSteps(2).maxGradNorm(0).progressBar(false).build();
            TrainLoop loop = new TrainLoop(cfg, a.parameters(), opt, new Schedule(Schedule.Kind.CONSTANT, 1e-3, 0, 1),
                    (m, step, micro) -> task.lossOf(a, m, next[0]++));
            TrainLoop.StepStats s = loop.computeGradients(base, 0, 42);
            assertEquals(9, s.tokens());

            for (NDArray p : b.parameters().values()) {
                p.setRequiresGradient(true);
            }
            double big;
            try (NDManager m = NDManager.newBaseManager(); GradientCollector gc = Engine.getInstance().newGradientCollector()) {
                MicroBatchLoss.Result r = task.lossOf(b, m, 0, 1);
                NDArray mean = r.lossSum().div(r.tokens());
                big = mean.getDouble();
                gc.backward(mean);
            }
            assertEquals(big, s.loss(), 1e-14);
            double sq = 0;
            for (Map.Entry<String, NDArray> e : a.parameters().entrySet()) {
                double[] ga = e.getValue().getGradient().toDoubleArray();
                double[] gb = b.parameters().get(e.getKey()).getGradient().toDoubleArray();
                for (int i = 0; i < ga.length; i++) {
                    assertEquals(gb[i], ga[i], 1e-13 + 1e-11 * Math.abs(gb[i]), e.getKey() + "[" + i + "]");
                    sq += gb[i] * gb[i];
                }
            }
            assertEquals(Math.sqrt(sq), s.gradNorm(), 1e-10 * Math.sqrt(sq));
        }
    }

    @Test
    void trainableParametersMoveAndFrozenOnesKeepEveryBit() {
        TinyTask task = new TinyTask(8, 2, 2, true);
        try (LlamaModel model = TinyTask.model(DataType.FLOAT32)) {
            Map<String, NDArray> trainable = new LinkedHashMap<>();
            Map<String, float[]> before = new LinkedHashMap<>();
            model.parameters().forEach((name, p) -> {
                before.put(name, p.toFloatArray());
                if (name.startsWith("model.layers.1.")) {
                    trainable.put(name, p);
                }
            });
            assertFalse(trainable.isEmpty());
            try (AdamW opt = adam(trainable)) {
                TrainConfig cfg = TrainConfig.builder(dir, 5).progressBar(false).build();
                new TrainLoop(cfg, trainable, opt, new Schedule(Schedule.Kind.CONSTANT, 1e-2, 0, 5), task.loss(model)).run();
            }
            model.parameters().forEach((name, p) -> {
                float[] now = p.toFloatArray();
                if (trainable.containsKey(name)) {
                    assertFalse(java.util.Arrays.equals(before.get(name), now), name + " did not move");
                } else {
                    assertArrayEquals(before.get(name), now, name + " changed although frozen");
                    assertFalse(p.hasGradient(), name + " requires a gradient although frozen");
                }
            });
        }
    }

    @Test
    void nanLossStopsWithoutWritingACheckpoint() throws IOException {
        TinyTask task = new TinyTask(8, 2, 3, false);
        try (LlamaModel model = TinyTask.model(DataType.FLOAT32); AdamW opt = adam(model.parameters())) {
            MicroBatchLoss normal = task.loss(model);
            MicroBatchLoss poisoned = (m, step, micro) -> {
                MicroBatchLoss.Result r = normal.compute(m, step, micro);
                return step == 4 && micro == 1 ? new MicroBatchLoss.Result(r.lossSum().mul(Float.NaN), r.tokens()) : r;
            };
            TrainConfig cfg = TrainConfig.builder(dir, 8).gradientAccumulationSteps(2).saveSteps(2).loggingSteps(1)
                    .progressBar(false).build();
            TrainLoop loop = new TrainLoop(cfg, model.parameters(), opt, new Schedule(Schedule.Kind.CONSTANT, 1e-2, 0, 8), poisoned)
                    .data(task.cursor);
            LoroException e = assertThrows(LoroException.class, loop::run);
            Path step4 = Checkpoints.dir(dir).resolve("step-4");
            assertEquals("loss became NaN at step 5; last good checkpoint: " + step4, e.getMessage());
            assertEquals(List.of(Checkpoints.dir(dir).resolve("step-2"), step4), Checkpoints.complete(dir));
            try (Stream<Path> s = Files.list(Checkpoints.dir(dir))) {
                assertEquals(2, s.count(), "no temp folders left");
            }
            // the weights were not touched by the bad step: they equal the last checkpoint's
            try (SafeTensorsFile f = SafeTensorsFile.open(step4.resolve(Checkpoints.WEIGHTS))) {
                for (Map.Entry<String, NDArray> p : model.parameters().entrySet()) {
                    assertArrayEquals(f.readFloats(p.getKey()), p.getValue().toFloatArray(), p.getKey());
                }
            }
            assertEquals(4, metrics(dir).size());
            assertEquals(4, opt.stepCount());
        }
    }

    /** 200 steps with the parameter and optimizer-state managers capped: any per-step leak into them throws. */
    @Test
    void memoryStaysFlatOverTwoHundredSteps() throws IOException {
        TinyTask task = new TinyTask(16, 2, 4, true);
        try (LlamaModel model = TinyTask.model(DataType.FLOAT32); AdamW opt = adam(model.parameters())) {
            MicroBatchLoss inner = task.loss(model);
            int[] gradArrays = {-1};
            MicroBatchLoss capping = (m, step, micro) -> {
                if (step == 1 && micro == 0) {
                    // after one full step: rope tables, gradients and moments all exist
                    model.manager().cap();
                    opt.manager().cap();
                    gradArrays[0] = opt.gradients().manager().getManagedArrays().size();
                }
                return inner.compute(m, step, micro);
            };
            TrainConfig cfg = TrainConfig.builder(dir, 200).loggingSteps(50).progressBar(false).build();
            new TrainLoop(cfg, model.parameters(), opt, new Schedule(Schedule.Kind.LINEAR, 5e-3, 10, 200), capping).run();
            assertEquals(model.parameters().size(), gradArrays[0]);
            assertEquals(gradArrays[0], opt.gradients().manager().getManagedArrays().size());
            assertEquals(200, opt.stepCount());
            List<JsonNode> lines = metrics(dir);
            assertEquals(4, lines.size());
            assertTrue(lines.get(3).get("loss").asDouble() < lines.get(0).get("loss").asDouble());
        }
    }

    @Test
    void progressBarShowsStepLossAndLr() {
        TinyTask task = new TinyTask(8, 2, 6, false);
        java.io.ByteArrayOutputStream bytes = new java.io.ByteArrayOutputStream();
        TrainLoop.progressStream = new java.io.PrintStream(bytes, true, java.nio.charset.StandardCharsets.UTF_8);
        try (LlamaModel model = TinyTask.model(DataType.FLOAT32); AdamW opt = adam(model.parameters())) {
            TrainConfig cfg = TrainConfig.builder(dir, 4).loggingSteps(2).build();
            new TrainLoop(cfg, model.parameters(), opt, new Schedule(Schedule.Kind.CONSTANT, 1e-3, 0, 4), task.loss(model)).run();
        } finally {
            TrainLoop.progressStream = null;
        }
        String shown = bytes.toString(java.nio.charset.StandardCharsets.UTF_8);
        assertTrue(shown.contains("train") && shown.contains("4/4") && shown.contains("loss ") && shown.contains("lr 0.00100")
                && shown.contains("tok/s"), shown);
    }

    /** The cached gradient wrappers keep seeing the live .grad across zeroing and later backward passes. */
    @Test
    void cachedGradientsTrackTheLiveGradient() {
        try (NDManager m = NDManager.newBaseManager()) {
            NDArray w = m.create(new float[] {1f, 2f});
            try (AdamW opt = adam(Map.of("w", w))) {
                assertNull(opt.gradients().get(0), "no gradient before the first backward");
                float[][] coefs = {{1f, 2f}, {-3f, 0.5f}, {7f, -1f}};
                for (float[] c : coefs) {
                    try (NDManager s = m.newSubManager(); GradientCollector gc = Engine.getInstance().newGradientCollector()) {
                        gc.backward(s.create(c).mul(w).sum());
                    }
                    assertArrayEquals(c, opt.gradients().get(0).toFloatArray());
                    assertArrayEquals(c, w.getGradient().toFloatArray());
                    opt.step(1e-3);
                    assertArrayEquals(new float[] {0f, 0f}, w.getGradient().toFloatArray());
                }
            }
        }
    }

    @Test
    void configRejectsBadValuesInOneLine() {
        LoroException e = assertThrows(LoroException.class,
                () -> TrainConfig.builder(dir, 10).gradientAccumulationSteps(0).build());
        assertEquals("gradient_accumulation_steps must be >= 1, got 0", e.getMessage());
    }
}
