package ai.loro.core.model;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.loro.core.LoroException;
import ai.loro.core.io.Checkpoint;
import ai.loro.core.io.TensorInfo;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Map;

/**
 * Checkpoint folders and host arrays into a {@link LlamaModel}: every tensor the config implies is
 * present with its shape, nothing unexpected is there (a different architecture or layer count), and
 * each array is widened or narrowed to the model's dtype as it is copied into libtorch.
 */
final class ModelLoader {
    private ModelLoader() {}

    static LlamaModel load(Path dir, LlamaConfig config, DataType dtype, Device device, Map<String, float[]> fresh) {
        Map<String, long[]> expected = HfNames.expectedTensors(config);
        NDManager manager = NDManager.newBaseManager(device);
        try (Checkpoint ckpt = Checkpoint.open(dir)) {
            for (String name : ckpt.names()) {
                boolean ignorable = name.equals(HfNames.LM_HEAD) && (config.tieWordEmbeddings() || config.isSequenceClassifier())
                        || name.equals(HfNames.SCORE) && fresh != null && fresh.containsKey(name);
                if (!expected.containsKey(name) && !ignorable && !name.endsWith(".rotary_emb.inv_freq")) {
                    throw new LoroException(dir + ": unexpected tensor '" + name + "' for " + config.architecture()
                            + " (a different architecture or a layer count that disagrees with config.json)");
                }
            }
            for (Map.Entry<String, long[]> e : expected.entrySet()) {
                if (fresh != null && fresh.containsKey(e.getKey())) {
                    continue;
                }
                if (!ckpt.contains(e.getKey())) {
                    throw new LoroException(dir + ": missing tensor '" + e.getKey() + "' required by config.json");
                }
                TensorInfo info = ckpt.info(e.getKey());
                if (!Arrays.equals(info.shape(), e.getValue())) {
                    throw new LoroException(dir + ": tensor '" + e.getKey() + "' has shape " + Arrays.toString(info.shape())
                            + " but config.json implies " + Arrays.toString(e.getValue()));
                }
            }
            return LlamaModel.create(config, dtype, device, name -> fresh != null && fresh.containsKey(name)
                    ? hostArray(manager, fresh.get(name), expected.get(name), dtype)
                    : ckpt.load(name, manager, dtype), manager);
        } catch (RuntimeException e) {
            manager.close();
            throw e;
        }
    }

    private static NDArray hostArray(NDManager manager, float[] values, long[] shape, DataType dtype) {
        NDArray a = manager.create(values, new Shape(shape));
        NDArray t = a.toType(dtype, false);
        if (t != a) {
            a.close();
        }
        return t;
    }

    /** A model with the given host weights (HF names → row-major floats), e.g. from {@link ModelInit}. */
    static LlamaModel fromHost(LlamaConfig config, Map<String, float[]> weights, DataType dtype, Device device) {
        NDManager manager = NDManager.newBaseManager(device);
        Map<String, long[]> expected = HfNames.expectedTensors(config);
        return LlamaModel.create(config, dtype, device, name -> {
            float[] w = weights.get(name);
            if (w == null) {
                throw new LoroException("missing tensor '" + name + "'");
            }
            return hostArray(manager, w, expected.get(name), dtype);
        }, manager);
    }
}
