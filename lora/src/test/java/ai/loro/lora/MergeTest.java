package ai.loro.lora;

import static org.junit.jupiter.api.Assertions.*;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.loro.core.LoroException;
import ai.loro.core.model.GenerationConfig;
import ai.loro.core.model.HfNames;
import ai.loro.core.model.LlamaModel;
import ai.loro.core.model.ModelWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class MergeTest {
    @TempDir
    Path tmp;

    private static final LoraConfig CONFIG = LoraConfig.of(4, 8, 0.1, "all-linear")
            .withPatterns(Map.of("layers.0.mlp.up_proj", 2), Map.of("o_proj", 3.0)).withRslora(true);

    @Test
    void mergedWeightsFp64MatchBasePlusAdapter() {
        try (LlamaModel model = LoraFixtures.model(DataType.FLOAT64);
             LoraAdapter adapter = LoraAdapter.create(model, CONFIG, 2);
             NDManager out = NDManager.newBaseManager()) {
            LoraFixtures.randomize(adapter, 8, 0.3);
            adapter.attach(model);
            double[] want = LoraFixtures.logProbs(model);
            Map<String, NDArray> merged = Merge.mergedWeights(model, adapter, out);
            assertEquals(model.parameters().keySet(), merged.keySet());
            assertSame(model.parameters().get(HfNames.EMBED), merged.get(HfNames.EMBED), "unchanged tensors are not copied");
            // W' = W + scale·B·A, checked element-wise for one module
            LoraAdapter.Module m = adapter.module("model.layers.0.mlp.up_proj");
            double[] w = model.parameters().get(HfNames.weight(0, HfNames.Proj.UP)).toDoubleArray();
            double[] a = m.a().toDoubleArray();
            double[] b = m.b().toDoubleArray();
            double[] got = merged.get(HfNames.weight(0, HfNames.Proj.UP)).toDoubleArray();
            int in = 16;
            int r = 2;
            for (int o = 0; o < 24; o++) {
                for (int i = 0; i < in; i++) {
                    double d = 0;
                    for (int k = 0; k < r; k++) {
                        d += b[o * r + k] * a[k * in + i];
                    }
                    assertEquals(w[o * in + i] + 8 / Math.sqrt(2) * d, got[o * in + i], 1e-14);
                }
            }
            try (NDManager mm = NDManager.newBaseManager();
                 LlamaModel mergedModel = LlamaModel.create(model.config(), DataType.FLOAT64, Device.cpu(), name -> {
                     NDArray c = merged.get(name).duplicate();
                     c.attach(mm);
                     return c;
                 }, NDManager.newBaseManager())) {
                double[] gotLp = LoraFixtures.logProbs(mergedModel);
                assertTrue(LoraFixtures.maxAbsDiff(want, gotLp) < 1e-10, "" + LoraFixtures.maxAbsDiff(want, gotLp));
            }
        }
    }

    @Test
    void mergeToCheckpointWritesLoadableModelWithTokenizerFiles() throws Exception {
        Path tok = tmp.resolve("tok");
        Files.createDirectories(tok);
        Files.writeString(tok.resolve("tokenizer_config.json"), "{\"model_max_length\": 128}");
        Path base = tmp.resolve("base");
        Path adapterDir = tmp.resolve("adapter");
        Path out = tmp.resolve("merged");
        double[] want;
        try (LlamaModel model = LoraFixtures.model(DataType.FLOAT32);
             LoraAdapter adapter = LoraAdapter.create(model, CONFIG, 2)) {
            ModelWriter.save(base, model.config(), model.parameters(), "F32", tok);
            LoraFixtures.randomize(adapter, 8, 0.3);
            Peft.save(adapter, adapterDir, base.toString(), "CAUSAL_LM");
            adapter.attach(model);
            want = LoraFixtures.logProbs(model);
        }
        // the base's generation_config.json: its sampling fields are kept and its eos ids unioned after config.json's
        String baseGen = Files.readString(base.resolve(GenerationConfig.FILE));
        assertEquals("{\n  \"bos_token_id\": 1,\n  \"eos_token_id\": 2\n}\n", baseGen); // config.json's ids (no tokenizer.json)
        Files.writeString(base.resolve(GenerationConfig.FILE), "{\"eos_token_id\": [5, 2], \"top_p\": 0.8}");
        Merge.mergeToCheckpoint(base, adapterDir, out);
        assertEquals("{\n  \"bos_token_id\": 1,\n  \"eos_token_id\": [\n    2,\n    5\n  ],\n  \"top_p\": 0.8\n}\n",
                Files.readString(out.resolve(GenerationConfig.FILE)));
        assertTrue(Files.isRegularFile(out.resolve("config.json")));
        assertTrue(Files.isRegularFile(out.resolve("model.safetensors")));
        assertEquals("{\"model_max_length\": 128}", Files.readString(out.resolve("tokenizer_config.json")));
        try (LlamaModel merged = LlamaModel.load(out, DataType.FLOAT32, Device.cpu())) {
            double[] got = LoraFixtures.logProbs(merged);
            assertTrue(LoraFixtures.maxAbsDiff(want, got) < 1e-4, "" + LoraFixtures.maxAbsDiff(want, got));
        }
        LoroException e = assertThrows(LoroException.class, () -> Merge.mergeToCheckpoint(base, adapterDir, out));
        assertTrue(e.getMessage().contains("already exists"), e.getMessage());
    }

    @Test
    void mergeRefusesAdapterOfOtherDtype() {
        try (LlamaModel m64 = LoraFixtures.model(DataType.FLOAT64);
             LlamaModel m32 = LoraFixtures.model(DataType.FLOAT32);
             LoraAdapter a = LoraAdapter.create(m64, CONFIG, 2)) {
            assertThrows(LoroException.class, () -> Merge.mergedWeights(m32, a));
        }
    }
}
