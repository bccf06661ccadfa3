package ai.loro.cli;

import static org.junit.jupiter.api.Assertions.*;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.loro.core.model.HfNames;
import ai.loro.core.model.LlamaModel;
import ai.loro.core.model.QuantizedBase;
import ai.loro.core.quant.QuantizedWeight;
import ai.loro.lora.LoraAdapter;
import ai.loro.lora.Merge;
import ai.loro.lora.Peft;
import com.fasterxml.jackson.databind.JsonNode;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * QLoRA-style runs: LoRA SFT on an NF4 base lowers the loss as on the fp32 base, merging into a
 * quantized base dequantizes first, reward and DPO run on quantized bases, full fine-tuning refuses one.
 */
class TrainQuantTest {
    @TempDir static Path tmp;
    static Path base;

    @BeforeAll
    static void setUp() throws Exception {
        base = Fixtures.tinyBase(tmp);
        Fixtures.additionData(tmp, 24);
    }

    static Path recipe(String name, String stage, String data, String type, String extra) throws Exception {
        return Fixtures.recipe(tmp, name, stage, data, type,
                "adapter:\n  type: lora\n  r: 4\n  alpha: 8\n  dropout: 0.1\n  target_modules: [q_proj, v_proj, down_proj]\n"
                + "sequence_len: 64\nmicro_batch_size: 4\ngradient_accumulation_steps: 2\nlearning_rate: 1.0e-2\n"
                + "warmup_steps: 2\nlogging_steps: 1\nprogress_bar: false\n" + extra);
    }

    static double[] firstLast(Path out) throws Exception {
        List<JsonNode> m = TrainSftTest.metrics(out).stream().filter(n -> n.get("split").asText().equals("train")).toList();
        return new double[] {m.get(0).get("loss").asDouble(), m.get(m.size() - 1).get("loss").asDouble()};
    }

    @Test
    void loraSftOnAnNf4BaseLowersTheLossAndMergesDequantized() throws Exception {
        double[] fp = null;
        for (String q : new String[] {"none", "nf4"}) {
            Path r = recipe("sft-" + q, "sft", "data.jsonl", "alpaca", "max_steps: 12\n");
            CliTest.Run run = CliTest.run("train", r.toString(), "--set", "quantize=" + q);
            assertEquals(0, run.code(), run.err());
            assertEquals(!q.equals("none"), run.out().contains("quantized 14 projections to " + q), run.out());
            double[] fl = firstLast(tmp.resolve("runs/sft-" + q));
            System.out.printf("sft quantize=%s: loss %.4f -> %.4f%n", q, fl[0], fl[1]);
            assertTrue(fl[1] < fl[0] - 0.3, q + ": loss " + fl[0] + " -> " + fl[1]);
            if (fp == null) {
                fp = fl;
            } else { // about as much progress as on the fp32 base
                assertTrue(fl[0] - fl[1] > 0.5 * (fp[0] - fp[1]), "nf4 drop " + (fl[0] - fl[1]) + " vs fp32 " + (fp[0] - fp[1]));
            }
            assertTrue(Files.readString(tmp.resolve("runs/sft-" + q + "/recipe.yaml")).contains("quantize: " + q));
        }
        // merge the trained adapter into the NF4 base: dequantize, add B·A, full-precision tensors out
        try (LlamaModel model = LlamaModel.load(base, DataType.FLOAT32, Device.cpu())) {
            QuantizedBase.quantize(model, "nf4");
            try (LoraAdapter adapter = Peft.load(tmp.resolve("runs/sft-nf4/adapter"), model);
                 NDManager out = model.manager().newSubManager()) {
                Map<String, NDArray> merged = Merge.mergedWeights(model, adapter, out);
                assertEquals(List.copyOf(HfNames.expectedTensors(model.config()).keySet()), List.copyOf(merged.keySet()));
                for (Map.Entry<String, NDArray> e : merged.entrySet()) {
                    assertEquals(DataType.FLOAT32, e.getValue().getDataType(), e.getKey());
                    assertFalse(e.getValue().isReleased(), e.getKey());
                }
                String name = HfNames.weight(0, HfNames.Proj.Q);
                LoraAdapter.Module mod = adapter.module(HfNames.module(0, HfNames.Proj.Q));
                QuantizedWeight qw = QuantizedBase.weights(model).get(name);
                float[] want = qw.dequantize(out).add(mod.b().matMul(mod.a()).mul(mod.scale())).toFloatArray();
                float[] got = merged.get(name).toFloatArray();
                for (int i = 0; i < want.length; i++) {
                    assertEquals(want[i], got[i], 1e-5, name + "[" + i + "]");
                }
                // the merged fp32 model computes what the NF4 base + adapter computes
                long[] ids = {256, 65, 100, 32, 49, 48, 32, 97, 110, 100, 32, 51, 46, 263};
                adapter.attach(model);
                adapter.setTraining(false);
                float[] withAdapter = model.tokenLogProbs(out.create(ids, new Shape(1, ids.length)), null).toFloatArray();
                LlamaModel m2 = LlamaModel.create(model.config(), DataType.FLOAT32, Device.cpu(), merged::get,
                        NDManager.newBaseManager());
                float[] mergedLp = m2.tokenLogProbs(out.create(ids, new Shape(1, ids.length)), null).toFloatArray();
                for (int i = 0; i < mergedLp.length; i++) {
                    assertEquals(withAdapter[i], mergedLp[i], 1e-4, "token " + i);
                }
            }
        }
    }

    @Test
    void rewardAndDpoRunOnQuantizedBases() throws Exception {
        Path rw = recipe("reward-int8", "reward", "pref.jsonl", "preference", "max_steps: 3\nquantize: int8\n");
        CliTest.Run run = CliTest.run("train", rw.toString());
        assertEquals(0, run.code(), run.err());
        assertTrue(run.out().contains("quantized 14 projections to int8"), run.out());
        assertTrue(Files.exists(tmp.resolve("runs/reward-int8/model/config.json")));
        Path dpo = recipe("dpo-nf4", "dpo", "pref.jsonl", "preference", "max_steps: 3\nquantize: nf4\n");
        run = CliTest.run("train", dpo.toString());
        assertEquals(0, run.code(), run.err());
        assertTrue(run.out().contains("quantized 14 projections to nf4"), run.out());
        assertTrue(Files.exists(tmp.resolve("runs/dpo-nf4/adapter/adapter_config.json")));
    }

    @Test
    void fullFineTuningRefusesAQuantizedBase() throws Exception {
        Path r = recipe("full-nf4", "sft", "data.jsonl", "alpaca", "max_steps: 1\n");
        CliTest.assertOneLineError(CliTest.run("train", r.toString(), "--set", "adapter.type=none", "--set", "quantize=nf4"),
                "needs adapter.type: lora");
        CliTest.assertOneLineError(CliTest.run("train", r.toString(), "--set", "quantize=nf3"), "'quantize' must be one of none|int8|nf4");
    }
}
