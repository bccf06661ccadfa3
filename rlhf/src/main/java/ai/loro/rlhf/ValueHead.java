package ai.loro.rlhf;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.core.Linear;
import ai.loro.core.LoroException;
import ai.loro.core.io.SafeTensorsFile;
import ai.loro.core.io.SafeTensorsWriter;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * PPO's value head: {@code V = h · wᵀ + b}, a linear [1, hidden] (+ bias [1]) on the policy's
 * final-norm hidden states, trained in full. Both start at zero (so the first values are 0).
 * Names follow TRL's AutoModelForCausalLMWithValueHead ({@value #WEIGHT}, {@value #BIAS}).
 */
public final class ValueHead implements AutoCloseable {
    public static final String WEIGHT = "v_head.summary.weight";
    public static final String BIAS = "v_head.summary.bias";
    public static final String FILE = "value_head.safetensors";

    private final NDManager manager;
    private final NDArray weight;
    private final NDArray bias;

    public ValueHead(int hiddenSize, NDManager parent) {
        this(hiddenSize, parent, DataType.FLOAT32);
    }

    /** A zero head in the policy's compute dtype (fp16 with {@code fp16: true}; AdamW keeps its fp32 master). */
    public ValueHead(int hiddenSize, NDManager parent, DataType dtype) {
        this.manager = parent.newSubManager();
        this.manager.setName("value-head");
        this.weight = manager.zeros(new Shape(1, hiddenSize), dtype);
        this.bias = manager.zeros(new Shape(1), dtype);
    }

    /** (B, T, H) → (B, T). */
    public NDArray forward(NDArray hidden) {
        return ai.loro.core.loss.LossOps.widen(Linear.linear(hidden, weight, bias).singletonOrThrow()).squeeze(-1); // fp32 values
    }

    /** The trainable arrays by name (live). */
    public Map<String, NDArray> parameters() {
        Map<String, NDArray> m = new LinkedHashMap<>();
        m.put(WEIGHT, weight);
        m.put(BIAS, bias);
        return m;
    }

    public void save(Path file) {
        SafeTensorsWriter.write(file, parameters(), Map.of("format", "pt"), "F32");
    }

    /** Reads a head written by {@link #save} (for inspection and tests). */
    public static Map<String, float[]> read(Path file) {
        try (NDManager m = NDManager.newBaseManager(); SafeTensorsFile f = SafeTensorsFile.open(file)) {
            Map<String, float[]> out = new LinkedHashMap<>();
            for (String name : new String[] {WEIGHT, BIAS}) {
                if (!f.tensors().containsKey(name)) {
                    throw new LoroException(file + ": no tensor '" + name + "'");
                }
                out.put(name, f.load(name, m, DataType.FLOAT32).toFloatArray());
            }
            return out;
        }
    }

    @Override
    public void close() {
        manager.close();
    }
}
