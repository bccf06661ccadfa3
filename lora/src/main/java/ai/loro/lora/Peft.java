package ai.loro.lora;

import ai.djl.ndarray.NDArray;
import ai.loro.core.model.LlamaModel;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

/**
 * Hugging Face PEFT LoRA adapter folders (docs/peft.md): {@code adapter_config.json} as PEFT writes it
 * and {@code adapter_model.safetensors} with keys {@code base_model.model.<module>.lora_A.weight} [r, in]
 * / {@code .lora_B.weight} [out, r]. The entry points; {@link PeftWriter} writes, {@link PeftReader}
 * reads and checks, {@link ServingWarnings} says what servers will refuse.
 */
public final class Peft {
    private Peft() {}

    public static final String CONFIG_FILE = "adapter_config.json";
    public static final String WEIGHTS_FILE = "adapter_model.safetensors";
    /** The PEFT version written to {@code peft_version}. */
    public static final String PEFT_VERSION = "0.17.0";
    /** vLLM's allowed {@code max_lora_rank} values; its default is 16. */
    public static final List<Integer> VLLM_MAX_LORA_RANKS = List.of(1, 8, 16, 32, 64, 128, 256, 320, 512);
    public static final int VLLM_DEFAULT_MAX_LORA_RANK = 16;

    /** Writes the adapter with F32 weights; returns warnings for servers that would refuse or mis-scale it. */
    public static List<String> save(LoraAdapter adapter, Path dir, String baseModelNameOrPath, String taskType) {
        return PeftWriter.save(adapter, dir, baseModelNameOrPath, taskType);
    }

    /** @param dtype "F32", "F16" or "BF16" */
    public static List<String> save(LoraAdapter adapter, Path dir, String baseModelNameOrPath, String taskType, String dtype) {
        return PeftWriter.save(adapter, dir, baseModelNameOrPath, taskType, dtype);
    }

    /** With modules saved whole (PEFT's {@code modules_to_save}, e.g. a reward model's {@code score} head). */
    public static List<String> save(LoraAdapter adapter, Path dir, String baseModelNameOrPath, String taskType,
                                    String dtype, Map<String, NDArray> modulesToSave) {
        return PeftWriter.save(adapter, dir, baseModelNameOrPath, taskType, dtype, modulesToSave);
    }

    /** The adapter_config.json text PEFT would write. */
    public static String configJson(LoraAdapter adapter, String baseModelNameOrPath, String taskType) {
        return PeftWriter.configJson(adapter, baseModelNameOrPath, taskType);
    }

    /** Warnings for vLLM and Ollama/llama.cpp about an adapter with this config. */
    public static List<String> warnings(LoraConfig c) {
        return ServingWarnings.of(c);
    }

    /** Reads an adapter folder for {@code model}, detached (attach it). */
    public static LoraAdapter load(Path dir, LlamaModel model) {
        return PeftReader.load(dir, model);
    }

    /** {@link #load(Path, LlamaModel)} with the seed its dropout masks derive from (when training on). */
    public static LoraAdapter load(Path dir, LlamaModel model, long dropoutSeed) {
        return PeftReader.load(dir, model, dropoutSeed);
    }

    /** Parses and checks adapter_config.json; refuses what Loro cannot apply exactly. */
    public static LoraConfig readConfig(Path dir) {
        return PeftReader.readConfig(dir);
    }
}
