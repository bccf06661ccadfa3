package ai.loro.core.model;

import static org.junit.jupiter.api.Assertions.*;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.loro.core.LoroException;
import ai.loro.core.io.Bf16;
import ai.loro.core.io.SafeTensorsWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Written checkpoints read back to the same numbers; bad checkpoints are refused by name. */
class CheckpointLoadTest {
    @TempDir Path tmp;
    static final long[] IDS = {3, 1, 4, 1, 5, 9, 2, 6};

    private static float[] logits(LlamaModel model) {
        try (NDManager m = model.manager().newSubManager()) {
            return model.forward(m.create(IDS, new Shape(1, IDS.length)), null, null).toFloatArray();
        }
    }

    @Test
    void savedModelReloadsExactlyInF32AndWithinRoundingInBf16AndShards() throws Exception {
        LlamaConfig c = TinyConfigs.gqa();
        Map<String, float[]> w = ModelInit.randomWeights(c, 9);
        try (LlamaModel model = LlamaModel.fromHost(c, w, DataType.FLOAT32, Device.cpu())) {
            float[] want = logits(model);
            ModelWriter.save(tmp.resolve("f32"), c, model.parameters(), "F32", null);
            try (LlamaModel back = LlamaModel.load(tmp.resolve("f32"), DataType.FLOAT32, Device.cpu())) {
                assertArrayEquals(want, logits(back), 0f);
                assertEquals(c, back.config());
            }
            // BF16 on disk: the loaded weights are exactly the bf16-rounded values
            ModelWriter.save(tmp.resolve("bf16"), c, model.parameters(), "BF16", null);
            Map<String, float[]> rounded = new LinkedHashMap<>();
            w.forEach((k, v) -> {
                float[] r = new float[v.length];
                for (int i = 0; i < v.length; i++) {
                    r[i] = Bf16.toFloat(Bf16.fromFloat(v[i]));
                }
                rounded.put(k, r);
            });
            try (LlamaModel back = LlamaModel.load(tmp.resolve("bf16"), DataType.FLOAT32, Device.cpu());
                 LlamaModel ref = LlamaModel.fromHost(c, rounded, DataType.FLOAT32, Device.cpu())) {
                assertArrayEquals(logits(ref), logits(back), 0f);
                assertTrue(Files.readString(tmp.resolve("bf16/config.json")).contains("\"torch_dtype\" : \"bfloat16\""));
            }
            // sharded: many small shards + index
            Path sharded = tmp.resolve("sharded");
            Files.createDirectories(sharded);
            SafeTensorsWriter.writeCheckpoint(sharded, model.parameters(), "F32", 2000);
            Files.writeString(sharded.resolve("config.json"), c.toJsonString());
            assertTrue(Files.exists(sharded.resolve("model.safetensors.index.json")));
            try (LlamaModel back = LlamaModel.load(sharded, DataType.FLOAT32, Device.cpu())) {
                assertArrayEquals(want, logits(back), 0f);
            }
        }
    }

    @Test
    void refusesMissingWrongAndForeignTensors() throws Exception {
        LlamaConfig c = TinyConfigs.gqa();
        try (LlamaModel model = LlamaModel.fromHost(c, ModelInit.randomWeights(c, 9), DataType.FLOAT32, Device.cpu());
             NDManager m = NDManager.newBaseManager()) {
            Map<String, NDArray> params = new LinkedHashMap<>(model.parameters());
            params.remove("model.layers.1.mlp.up_proj.weight");
            Path missing = save(c, params, "missing");
            String msg = assertThrows(LoroException.class, () -> LlamaModel.load(missing, DataType.FLOAT32, Device.cpu())).getMessage();
            assertTrue(msg.contains("missing tensor 'model.layers.1.mlp.up_proj.weight'"), msg);

            params = new LinkedHashMap<>(model.parameters());
            params.put("model.norm.weight", m.ones(new Shape(15)));
            Path wrong = save(c, params, "wrong");
            msg = assertThrows(LoroException.class, () -> LlamaModel.load(wrong, DataType.FLOAT32, Device.cpu())).getMessage();
            assertTrue(msg.contains("'model.norm.weight' has shape [15]"), msg);

            params = new LinkedHashMap<>(model.parameters());
            params.put("model.layers.0.self_attn.q_norm.weight", m.ones(new Shape(4)));
            Path foreign = save(c, params, "foreign");
            msg = assertThrows(LoroException.class, () -> LlamaModel.load(foreign, DataType.FLOAT32, Device.cpu())).getMessage();
            assertTrue(msg.contains("unexpected tensor 'model.layers.0.self_attn.q_norm.weight'"), msg);

            // layer count in config.json larger than the weights
            com.fasterxml.jackson.databind.node.ObjectNode more = c.toJson();
            more.put("num_hidden_layers", 3);
            Path deeper = save(c, model.parameters(), "deeper");
            Files.writeString(deeper.resolve("config.json"), more.toString());
            msg = assertThrows(LoroException.class, () -> LlamaModel.load(deeper, DataType.FLOAT32, Device.cpu())).getMessage();
            assertTrue(msg.contains("missing tensor 'model.layers.2."), msg);

            // truncated weights file
            Path cut = save(c, model.parameters(), "cut");
            Path file = cut.resolve("model.safetensors");
            byte[] bytes = Files.readAllBytes(file);
            Files.write(file, java.util.Arrays.copyOf(bytes, bytes.length - 100));
            msg = assertThrows(LoroException.class, () -> LlamaModel.load(cut, DataType.FLOAT32, Device.cpu())).getMessage();
            assertTrue(msg.contains("model.safetensors") && !msg.contains("\n"), msg);
        }
    }

    private Path save(LlamaConfig c, Map<String, NDArray> params, String name) throws Exception {
        Path dir = tmp.resolve(name);
        Files.createDirectories(dir);
        SafeTensorsWriter.write(dir.resolve("model.safetensors"), params, Map.of("format", "pt"), "F32");
        Files.writeString(dir.resolve("config.json"), c.toJsonString());
        return dir;
    }
}
