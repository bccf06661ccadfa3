package ai.loro.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code gradient_checkpointing: true} changes memory, not results: SFT (LoRA with dropout, gradient
 * accumulation, a quantized base), full fine-tuning, the reward model and DPO train to the same
 * weights and losses as without it. And {@code device}: gpu without a GPU is a one-line error.
 */
class GradientCheckpointingTrainTest {
    @TempDir static Path tmp;

    @BeforeAll
    static void setUp() throws Exception {
        Fixtures.tinyBase(tmp);
        Fixtures.additionData(tmp, 16);
    }

    private static Path recipe(String name, String stage, String data, String type, String extra) throws Exception {
        return Fixtures.recipe(tmp, name, stage, data, type,
                "adapter:\n  type: lora\n  r: 4\n  alpha: 8\n  dropout: 0.1\n  target_modules: all-linear\n"
                + "sequence_len: 64\nmicro_batch_size: 4\ngradient_accumulation_steps: 2\nlearning_rate: 1.0e-2\n"
                + "warmup_steps: 1\nlogging_steps: 1\nprogress_bar: false\ndeterministic: true\nmax_steps: 4\n" + extra);
    }

    /** Runs the recipe with gradient checkpointing off and on; both must end with the same tensors and losses. */
    // fp32 with different chunking rounds differently; the fp64 unit tests (ActivationCheckpointingTest) show exactness
    private static void assertSameRun(String name, String stage, String data, String type, String extra, String weights,
                                      String... sets) throws Exception {
        for (String on : new String[] {"false", "true"}) {
            Path r = recipe(name + "-" + on, stage, data, type, extra);
            List<String> args = new java.util.ArrayList<>(List.of("train", r.toString(), "--set", "gradient_checkpointing=" + on));
            for (String s : sets) {
                args.add("--set");
                args.add(s);
            }
            CliTest.Run run = CliTest.run(args.toArray(String[]::new));
            assertEquals(0, run.code(), run.err());
            assertEquals(on.equals("true"), run.out().contains("gradient checkpointing: each decoder layer is re-run"), run.out());
        }
        Fixtures.assertSameTensors(tmp.resolve("runs/" + name + "-false/" + weights), tmp.resolve("runs/" + name + "-true/" + weights));
        List<JsonNode> a = TrainSftTest.metrics(tmp.resolve("runs/" + name + "-false"));
        List<JsonNode> b = TrainSftTest.metrics(tmp.resolve("runs/" + name + "-true"));
        assertEquals(a.size(), b.size());
        for (int i = 0; i < a.size(); i++) {
            if (a.get(i).has("loss")) {
                assertEquals(a.get(i).get("loss").asDouble(), b.get(i).get("loss").asDouble(), 1e-5, name + " line " + i);
                assertEquals(a.get(i).get("grad_norm").asDouble(), b.get(i).get("grad_norm").asDouble(), 1e-4, name + " line " + i);
            }
        }
        assertTrue(Files.readString(tmp.resolve("runs/" + name + "-true/recipe.yaml")).contains("gradient_checkpointing: true"));
    }

    @Test
    void loraSftWithDropoutAndAccumulationTrainsTheSameWeights() throws Exception {
        assertSameRun("sft", "sft", "data.jsonl", "alpaca", "", "adapter/adapter_model.safetensors");
    }

    @Test
    void packedSftTrainsTheSameWeights() throws Exception { // per-example positions and block-diagonal attention
        assertSameRun("packed", "sft", "data.jsonl", "alpaca", "packing: true\n", "adapter/adapter_model.safetensors");
    }

    @Test
    void loraSftOnAnNf4BaseTrainsTheSameWeights() throws Exception {
        assertSameRun("sft-nf4", "sft", "data.jsonl", "alpaca", "quantize: nf4\n", "adapter/adapter_model.safetensors");
    }

    @Test
    void fullFineTuningTrainsTheSameWeights() throws Exception {
        assertSameRun("full", "sft", "data.jsonl", "alpaca", "", "model/model.safetensors",
                "adapter.type=none", "learning_rate=1.0e-3");
    }

    @Test
    void rewardModelAndDpoTrainTheSameWeights() throws Exception {
        assertSameRun("reward", "reward", "pref.jsonl", "preference", "", "adapter/adapter_model.safetensors");
        assertSameRun("dpo", "dpo", "pref.jsonl", "preference", "", "adapter/adapter_model.safetensors");
    }

    @Test
    void deviceGpuWithoutAGpuIsAOneLineError() throws Exception {
        Path r = recipe("gpu", "sft", "data.jsonl", "alpaca", "device: gpu\n");
        CliTest.assertOneLineError(CliTest.run("train", r.toString()), "device: gpu, but DJL's PyTorch engine");
        CliTest.assertOneLineError(CliTest.run("train", r.toString(), "--set", "device=tpu"), "'device' must be one of cpu|gpu|auto");
        CliTest.Run cpu = CliTest.run("train", r.toString(), "--set", "device=cpu", "--set", "max_steps=1");
        assertEquals(0, cpu.code(), cpu.err());
    }
}
