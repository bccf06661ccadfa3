package ai.loro.core.train;

import static org.junit.jupiter.api.Assertions.*;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.DataType;
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
import java.util.Optional;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Checkpoint layout, retention, and exact resume on a tiny Llama full fine-tune.
 *
 * <p>Runs libtorch with one intra-op thread: with several, CPU kernels (MKL/OpenMP with dynamic
 * thread counts) are not bitwise reproducible on a loaded machine, and AdamW turns a last-bit
 * difference in a near-zero gradient into an lr-sized one.
 */
class CheckpointResumeTest {
    @TempDir
    Path dir;

    private static int threads;

    @BeforeAll
    static void oneThread() {
        threads = ai.djl.pytorch.jni.JniUtils.getNumThreads();
        ai.djl.pytorch.jni.JniUtils.setNumThreads(1);
    }

    @AfterAll
    static void restoreThreads() {
        ai.djl.pytorch.jni.JniUtils.setNumThreads(threads);
    }

    private static final int STEPS = 6;

    /** Everything a run depends on, built afresh as a new process would. */
    private static final class Run implements AutoCloseable {
        final LlamaModel model = TinyTask.model(DataType.FLOAT32);
        final TinyTask task = new TinyTask(5, 2, 11, true); // 5 sequences, 4 per step: epochs wrap mid-run
        final AdamW opt = new AdamW(model.parameters(), AdamW.Options.defaults().withWeightDecay(0.05, true));

        TrainLoop loop(Path out, boolean resume, MicroBatchLoss loss) {
            TrainConfig cfg = TrainConfig.builder(out, STEPS).gradientAccumulationSteps(2).maxGradNorm(0.5).seed(7)
                    .saveSteps(3).loggingSteps(1).resume(resume).progressBar(false).build();
            return new TrainLoop(cfg, model.parameters(), opt, new Schedule(Schedule.Kind.COSINE, 2e-2, 2, STEPS), loss)
                    .data(task.cursor);
        }

        @Override
        public void close() {
            opt.close();
            model.close();
        }
    }

    @Test
    void resumedRunIsBitIdenticalToAnUninterruptedOne() throws IOException {
        Path straight = dir.resolve("straight");
        Path crashed = dir.resolve("crashed");
        Map<String, float[]> expected = new LinkedHashMap<>();
        try (Run a = new Run()) {
            a.loop(straight, false, a.task.loss(a.model)).run();
            a.model.parameters().forEach((k, v) -> expected.put(k, v.toFloatArray()));
        }
        try (Run b = new Run()) {
            MicroBatchLoss inner = b.task.loss(b.model);
            MicroBatchLoss crashing = (m, step, micro) -> {
                if (step == 4 && micro == 1) {
                    throw new IllegalStateException("simulated crash");
                }
                return inner.compute(m, step, micro);
            };
            IllegalStateException e = assertThrows(IllegalStateException.class, () -> b.loop(crashed, false, crashing).run());
            assertEquals("simulated crash", e.getMessage());
        }
        assertEquals(Optional.of(Checkpoints.dir(crashed).resolve("step-3")), Checkpoints.latest(crashed));
        assertEquals(4, lines(crashed).size(), "the crashed run logged step 4 before dying");
        try (Run c = new Run()) {
            TrainLoop.Result r = c.loop(crashed, true, c.task.loss(c.model)).run();
            assertEquals(STEPS, r.steps());
            assertEquals(STEPS, c.opt.stepCount());
            for (Map.Entry<String, NDArray> p : c.model.parameters().entrySet()) {
                // equal up to float rounding: on a loaded machine a kernel may round the last bit differently
                assertArrayEquals(expected.get(p.getKey()), p.getValue().toFloatArray(), 1e-5f, p.getKey());
            }
        }
        List<JsonNode> a = lines(straight);
        List<JsonNode> b = lines(crashed);
        assertEquals(STEPS, b.size(), "lines after the checkpoint are replaced, not duplicated");
        for (int i = 0; i < STEPS; i++) {
            assertEquals(i + 1, b.get(i).get("step").asInt());
            for (String key : List.of("loss", "lr", "grad_norm", "epoch")) {
                assertEquals(a.get(i).get(key).asDouble(), b.get(i).get(key).asDouble(), 0, key + " at step " + (i + 1));
            }
        }
        JsonNode state = new ObjectMapper().readTree(Checkpoints.dir(crashed).resolve("step-6").resolve(Checkpoints.STATE).toFile());
        assertEquals(6, state.get("step").asInt());
        assertEquals(7, state.get("seed").asLong());
        assertEquals(6, state.get("optimizer").get("step").asLong());
        assertEquals("cosine", state.get("schedule").get("kind").asText());
        // 6 steps · 2 micro-batches · 2 sequences = 24 draws from 5 sequences: the fifth epoch, 4 in
        assertEquals(4, state.get("data").get("epoch").asInt());
        assertEquals(4, state.get("data").get("index").asInt());
    }

    private static List<JsonNode> lines(Path out) throws IOException {
        List<JsonNode> l = new ArrayList<>();
        for (String s : Files.readAllLines(out.resolve("metrics.jsonl"))) {
            l.add(new ObjectMapper().readTree(s));
        }
        return l;
    }

    @Test
    void saveTotalLimitKeepsTheNewest() {
        try (Run r = new Run()) {
            TrainConfig cfg = TrainConfig.builder(dir, 5).saveSteps(1).saveTotalLimit(2).progressBar(false).build();
            new TrainLoop(cfg, r.model.parameters(), r.opt, new Schedule(Schedule.Kind.CONSTANT, 1e-3, 0, 5), r.task.loss(r.model))
                    .run();
        }
        assertEquals(List.of(Checkpoints.dir(dir).resolve("step-4"), Checkpoints.dir(dir).resolve("step-5")), Checkpoints.complete(dir));
    }

    @Test
    void latestIgnoresTempAndIncompleteFolders() throws IOException {
        Path c = Checkpoints.dir(dir);
        assertEquals(Optional.empty(), Checkpoints.latest(dir));
        for (String name : List.of("step-2", "step-10")) {
            Files.createDirectories(c.resolve(name));
            Files.writeString(c.resolve(name).resolve(Checkpoints.STATE), "{}");
        }
        Files.createDirectories(c.resolve("step-11")); // no trainer state: not a checkpoint
        Files.createDirectories(c.resolve(".tmp-step-12-abcdef01"));
        Files.writeString(c.resolve(".tmp-step-12-abcdef01").resolve(Checkpoints.STATE), "{}");
        Files.createDirectories(c.resolve("step-x"));
        assertEquals(Optional.of(c.resolve("step-10")), Checkpoints.latest(dir));
        assertEquals(List.of(c.resolve("step-2"), c.resolve("step-10")), Checkpoints.complete(dir));
    }

    @Test
    void resumeWithoutCheckpointStartsFresh() {
        try (Run r = new Run()) {
            TrainLoop.Result res = r.loop(dir, true, r.task.loss(r.model)).run();
            assertEquals(STEPS, res.steps());
            assertEquals(Optional.of(Checkpoints.dir(dir).resolve("step-6")), res.lastCheckpoint());
        }
    }
}
