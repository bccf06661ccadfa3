package ai.loro.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/** What the PPO and GRPO training tests share: their recipes' common part, a run's metrics, and a killed run resumed. */
final class RlTrainRuns {
    private RlTrainRuns() {}

    /** The recipe lines both stages' test recipes start with: the tiny base, the prompts, LoRA r=4 on every projection. */
    static String recipeHead(String stage, String name, String extra) {
        return "stage: " + stage + "\nbase_model: base\noutput_dir: runs/" + name + "\nseed: 3\n"
                + "datasets:\n  - path: prompts.jsonl\n    type: prompt\n"
                + "adapter:\n  type: lora\n  r: 4\n  alpha: 8\n  dropout: 0.0\n  target_modules: all-linear\n"
                + "sequence_len: 96\nlearning_rate: 3.0e-3\nlr_scheduler: constant\nlogging_steps: 5\nprogress_bar: false\n"
                + extra;
    }

    /** metrics.jsonl of a run's output folder, one node a line. */
    static List<JsonNode> metrics(Path out) throws Exception {
        ObjectMapper json = new ObjectMapper();
        List<JsonNode> l = new ArrayList<>();
        for (String line : Files.readAllLines(out.resolve("metrics.jsonl"))) {
            l.add(json.readTree(line));
        }
        return l;
    }

    /**
     * Trains {@code recipe} (output {@code out}) in a child JVM with one libtorch thread, kills it once
     * {@code checkpoints/step-4} exists (it must still be running, without its adapter), then resumes
     * it in this JVM; the resumed run must succeed and say it resumed. {@code log}: the child's output.
     */
    static CliTest.Run killAndResume(Path recipe, Path out, Path log) throws Exception {
        ProcessBuilder pb = new ProcessBuilder(TrainSftTest.javaBin(), "-cp", System.getProperty("java.class.path"),
                Main.class.getName(), "train", recipe.toString()).redirectErrorStream(true)
                .redirectOutput(log.toFile());
        pb.environment().put("OMP_NUM_THREADS", "1");
        Process p = pb.start();
        long deadline = System.currentTimeMillis() + 120_000;
        while (!Files.exists(out.resolve("checkpoints/step-4")) && System.currentTimeMillis() < deadline && p.isAlive()) {
            Thread.sleep(10);
        }
        boolean killedMidRun = p.isAlive();
        p.destroyForcibly();
        p.waitFor(30, TimeUnit.SECONDS);
        assertTrue(killedMidRun, "the run ended before it could be killed: " + Files.readString(log));
        assertFalse(Files.exists(out.resolve("adapter")), "killed before the end");
        CliTest.Run resumed = CliTest.run("train", recipe.toString());
        assertEquals(0, resumed.code(), resumed.err());
        assertTrue(resumed.out().contains("resuming from"), resumed.out());
        return resumed;
    }
}
