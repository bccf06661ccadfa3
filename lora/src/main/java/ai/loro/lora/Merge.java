package ai.loro.lora;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.loro.core.LoroException;
import ai.loro.core.model.HfNames;
import ai.loro.core.model.LlamaModel;
import ai.loro.core.model.ModelWriter;
import ai.loro.core.model.QuantizedBase;
import ai.loro.core.quant.QuantizedWeight;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

/** Folds a LoRA adapter into its base weights: {@code W' = W + scale · B A} for every adapted projection. */
public final class Merge {
    private Merge() {}

    /**
     * {@link #mergedWeights(LlamaModel, LoraAdapter, NDManager)} with the merged arrays on the model's
     * manager (they live until the model is closed).
     */
    public static Map<String, NDArray> mergedWeights(LlamaModel model, LoraAdapter adapter) {
        return mergedWeights(model, adapter, model.manager());
    }

    /**
     * The model's full state dict (HF names, transformers' order) with every adapted projection's
     * weight replaced by {@code W + scale · B A}, computed in fp64 and cast to the model's dtype. The
     * new arrays belong to {@code out}; the others are the model's own arrays (not copies). A quantized
     * base is dequantized first: its projections come back full precision (on {@code out}), merged or not.
     */
    public static Map<String, NDArray> mergedWeights(LlamaModel model, LoraAdapter adapter, NDManager out) {
        if (adapter.dtype() != model.dtype()) {
            throw new LoroException("LoRA adapter is " + adapter.dtype() + " but the model is " + model.dtype());
        }
        // a quantized base is dequantized first (onto out): the delta is never added to 4-bit codes
        Map<String, QuantizedWeight> quantized = QuantizedBase.weights(model);
        Map<String, NDArray> merged = quantized.isEmpty() ? new LinkedHashMap<>(model.parameters())
                : QuantizedBase.fullPrecisionParameters(model, out);
        for (LoraAdapter.Module m : adapter.modules().values()) {
            String name = HfNames.weight(m.layer(), m.proj());
            NDArray w = merged.get(name);
            if (w == null || m.layer() >= model.config().numHiddenLayers()) {
                throw new LoroException("LoRA module " + m.name() + " is not in the model");
            }
            try (NDManager tmp = out.newSubManager()) {
                NDArray w64 = w.toType(DataType.FLOAT64, true);
                w64.attach(tmp);
                NDArray b64 = m.b().toType(DataType.FLOAT64, true);
                b64.attach(tmp);
                NDArray a64 = m.a().toType(DataType.FLOAT64, true);
                a64.attach(tmp);
                if (w64.getShape().get(0) != b64.getShape().get(0) || w64.getShape().get(1) != a64.getShape().get(1)) {
                    throw new LoroException("LoRA module " + m.name() + ": A " + m.a().getShape() + " / B "
                            + m.b().getShape() + " do not fit the weight " + w.getShape());
                }
                NDArray sum = w64.add(b64.matMul(a64).mul(m.scale()));
                NDArray result = sum.toType(model.dtype(), true);
                result.attach(out);
                result.setName(name);
                merged.put(name, result);
                if (quantized.containsKey(name)) {
                    w.close(); // the dequantized copy, replaced by the merged one
                }
            }
        }
        return merged;
    }

    /** {@link #mergeToCheckpoint(Path, Path, Path, String)} keeping the base's storage dtype (F32 when unknown). */
    public static void mergeToCheckpoint(Path baseDir, Path adapterDir, Path outDir) {
        mergeToCheckpoint(baseDir, adapterDir, outDir, storageDtype(baseDir));
    }

    /**
     * Loads the base checkpoint (fp32) and the PEFT adapter, merges, and writes a full Hugging Face
     * checkpoint (config.json, safetensors, the base's tokenizer files) to {@code outDir} atomically.
     *
     * @param dtype "F32", "F16" or "BF16"
     */
    public static void mergeToCheckpoint(Path baseDir, Path adapterDir, Path outDir, String dtype) {
        try (LlamaModel model = LlamaModel.load(baseDir, DataType.FLOAT32, Device.cpu());
             LoraAdapter adapter = Peft.load(adapterDir, model);
             NDManager tmp = model.manager().newSubManager()) {
            Map<String, NDArray> merged = mergedWeights(model, adapter, tmp);
            ModelWriter.save(outDir, model.config(), merged, dtype, baseDir);
        }
    }

    /** The safetensors dtype matching the base's config.json torch_dtype/dtype: BF16, F16, else F32. */
    static String storageDtype(Path baseDir) {
        Path file = baseDir.resolve("config.json");
        try {
            JsonNode root = new ObjectMapper().readTree(file.toFile());
            JsonNode d = root.has("torch_dtype") ? root.get("torch_dtype") : root.get("dtype");
            String s = d == null || d.isNull() ? "" : d.asText();
            return switch (s) {
                case "bfloat16" -> "BF16";
                case "float16" -> "F16";
                default -> "F32";
            };
        } catch (IOException e) {
            throw new LoroException(file + ": cannot read: " + e.getMessage(), e);
        }
    }
}
