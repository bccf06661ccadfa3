package ai.loro.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.loro.core.io.SafeTensorsFile;
import com.fasterxml.jackson.databind.JsonNode;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code fp16: true} end to end on the CPU: SFT, the reward model and DPO train with fp16 models,
 * fp32 master weights and dynamic loss scaling, and learn like the fp32 runs; with an NF4 base and
 * with gradient checkpointing too; checkpoints carry the fp32 masters; PPO refuses the key.
 */
class Fp16TrainTest {
    @TempDir static Path tmp;

    @BeforeAll
    static void setUp() throws Exception {
        Fixtures.tinyBase(tmp);
        Fixtures.additionData(tmp, 24);
    }

    private static Path recipe(String name, String stage, String data, String type, String extra) throws Exception {
        return Fixtures.recipe(tmp, name, stage, data, type,
                "adapter:\n  type: lora\n  r: 4\n  alpha: 8\n  dropout: 0.0\n  target_modules: all-linear\n"
                + "sequence_len: 64\nmicro_batch_size: 4\nlearning_rate: 1.0e-2\n"
                + "warmup_steps: 1\nlogging_steps: 1\nprogress_bar: false\nmax_steps: 12\nsave_steps: 6\n" + extra);
    }

    private static List<JsonNode> train(String name) throws Exception {
        return TrainSftTest.metrics(tmp.resolve("runs/" + name)).stream().filter(n -> n.get("split").asText().equals("train")).toList();
    }

    private static double meanLoss(List<JsonNode> lines, int from, int to) {
        return lines.subList(from, to).stream().mapToDouble(n -> n.get("loss").asDouble()).average().orElseThrow();
    }

    @Test
    void loraSftInFp16LearnsLikeFp32AndCheckpointsTheMasters() throws Exception {
        for (String fp16 : new String[] {"false", "true"}) {
            CliTest.Run run = CliTest.run("train", recipe("sft-" + fp16, "sft", "data.jsonl", "alpaca", "fp16: " + fp16 + "\n").toString());
            assertEquals(0, run.code(), run.err());
            assertEquals(fp16.equals("true"), run.out().contains("fp16: models in fp16, fp32 master weights"), run.out());
        }
        List<JsonNode> a = train("sft-false");
        List<JsonNode> b = train("sft-true");
        assertEquals(a.get(0).get("loss").asDouble(), b.get(0).get("loss").asDouble(), 0.01 * a.get(0).get("loss").asDouble());
        double drop32 = a.get(0).get("loss").asDouble() - meanLoss(a, 9, 12);
        double drop16 = b.get(0).get("loss").asDouble() - meanLoss(b, 9, 12);
        System.out.printf("sft loss drop over 12 steps: fp32 %.3f, fp16 %.3f%n", drop32, drop16);
        assertTrue(drop32 > 1 && drop16 > 0.8 * drop32, "fp16 drop " + drop16 + " vs fp32 " + drop32);
        assertTrue(b.get(0).has("loss_scale") && !a.get(0).has("loss_scale"));
        Path ckpt = tmp.resolve("runs/sft-true/checkpoints/step-12");
        try (SafeTensorsFile w = SafeTensorsFile.open(ckpt.resolve("trainable.safetensors"));
             SafeTensorsFile o = SafeTensorsFile.open(ckpt.resolve("optimizer.safetensors"))) {
            for (String name : w.tensors().keySet()) {
                assertEquals("F16", w.tensors().get(name).dtype(), name);
                assertEquals("F32", o.tensors().get(name + ".master").dtype(), name + ".master");
                float[] master = o.readFloats(name + ".master");
                float[] param = w.readFloats(name);
                for (int i = 0; i < master.length; i++) { // the parameter is its master rounded to fp16
                    assertEquals(ai.loro.core.io.Bf16.fp16ToFloat(ai.loro.core.io.Bf16.floatToFp16(master[i])), param[i], 0.0f, name + "[" + i + "]");
                }
            }
        }
        assertTrue(Files.readString(tmp.resolve("runs/sft-true/checkpoints/step-12/trainer_state.json")).contains("\"loss_scale\""));
        assertTrue(Files.exists(tmp.resolve("runs/sft-true/adapter/adapter_model.safetensors")));
    }

    @Test
    void rewardDpoNf4AndCheckpointingRunInFp16() throws Exception {
        CliTest.Run rw = CliTest.run("train", recipe("rw16", "reward", "pref.jsonl", "preference", "fp16: true\nquantize: int8\n").toString());
        assertEquals(0, rw.code(), rw.err());
        assertTrue(rw.out().contains("quantized 14 projections to int8") && rw.out().contains("note: fp16 on the CPU"), rw.out());
        List<JsonNode> r = train("rw16");
        assertTrue(meanLoss(r, 9, 12) < r.get(0).get("loss").asDouble() - 0.2, "reward loss did not fall: " + r);
        CliTest.Run dpo = CliTest.run("train", recipe("dpo16", "dpo", "pref.jsonl", "preference", "fp16: true\n").toString());
        assertEquals(0, dpo.code(), dpo.err());
        List<JsonNode> d = train("dpo16");
        assertTrue(meanLoss(d, 9, 12) < d.get(0).get("loss").asDouble() - 0.1, "dpo loss did not fall: " + d);
        CliTest.Run q = CliTest.run("train", recipe("nf4-16", "sft", "data.jsonl", "alpaca",
                "fp16: true\nquantize: nf4\ngradient_checkpointing: true\n").toString());
        assertEquals(0, q.code(), q.err());
        List<JsonNode> s = train("nf4-16");
        assertTrue(meanLoss(s, 9, 12) < s.get(0).get("loss").asDouble() - 1, "nf4 fp16 loss did not fall: " + s);
    }

    @Test
    void ppoRunsInFp16WithAnFp16ValueHeadAndCheckpointedMasters() throws Exception {
        StringBuilder prompts = new StringBuilder();
        for (int i = 0; i < 16; i++) {
            prompts.append(String.format("{\"prompt\": \"Say %c.\", \"answer\": \"%c\"}%n", 'a' + i, 'a' + i));
        }
        Files.writeString(tmp.resolve("prompts.jsonl"), prompts.toString());
        Path r = tmp.resolve("ppo16.yaml");
        Files.writeString(r, "stage: ppo\nbase_model: base\noutput_dir: runs/ppo16\nseed: 3\n"
                + "datasets:\n  - path: prompts.jsonl\n    type: prompt\n"
                + "adapter:\n  type: lora\n  r: 4\n  alpha: 8\n  target_modules: all-linear\n"
                + "sequence_len: 96\nlearning_rate: 3.0e-3\nlr_scheduler: constant\nlogging_steps: 1\nprogress_bar: false\n"
                + "max_steps: 4\nsave_steps: 2\nfp16: true\ngradient_checkpointing: true\n"
                + "ppo:\n  rollout_batch_size: 8\n  num_mini_batches: 2\n  ppo_epochs: 2\n  max_new_tokens: 6\n"
                + "  temperature: 1.0\n  reward_functions: [exact_match, \"length_penalty:4\"]\n");
        CliTest.Run run = CliTest.run("train", r.toString());
        assertEquals(0, run.code(), run.err());
        assertTrue(run.out().contains("fp16: models in fp16"), run.out());
        List<JsonNode> m = train("ppo16");
        assertEquals(4, m.size());
        for (JsonNode n : m) {
            assertTrue(n.get("ppo/loss_scale").asDouble() >= 1, n.toString());
            assertTrue(Double.isFinite(n.get("objective/kl").asDouble()) && Double.isFinite(n.get("ppo/loss/value").asDouble()), n.toString());
        }
        try (SafeTensorsFile o = SafeTensorsFile.open(tmp.resolve("runs/ppo16/checkpoints/step-4/optimizer.safetensors"))) {
            assertEquals("F32", o.tensors().get("v_head.summary.weight.master").dtype());
        }
        assertTrue(Files.readString(tmp.resolve("runs/ppo16/checkpoints/step-4/trainer_state.json")).contains("\"loss_scale\""));
        assertTrue(Files.exists(tmp.resolve("runs/ppo16/value_head.safetensors")));
    }
}
