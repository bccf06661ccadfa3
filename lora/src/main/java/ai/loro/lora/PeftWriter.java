package ai.loro.lora;

import static ai.loro.lora.Peft.*;

import ai.djl.ndarray.NDArray;
import ai.loro.core.LoroException;
import ai.loro.core.io.AtomicFiles;
import ai.loro.core.io.PyJson;
import ai.loro.core.io.SafeTensorsWriter;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/** Writes PEFT adapter folders: adapter_config.json as PEFT's json.dumps writes it, the tensors, atomically (docs/peft.md). */
final class PeftWriter {
    private PeftWriter() {}

    /** {@link Peft#save(LoraAdapter, Path, String, String, String)} with F32 weights. */
    public static List<String> save(LoraAdapter adapter, Path dir, String baseModelNameOrPath, String taskType) {
        return save(adapter, dir, baseModelNameOrPath, taskType, "F32");
    }

    /**
     * Writes {@code adapter_config.json} and {@code adapter_model.safetensors} (metadata
     * {"format":"pt"}) into {@code dir}. Both are assembled in a temporary sibling folder; a missing or
     * empty {@code dir} is then replaced by it in one rename, an existing one receives each file by an
     * atomic rename (weights first, config last).
     *
     * @param taskType e.g. "CAUSAL_LM", or null
     * @param dtype "F32", "F16" or "BF16"
     * @return warnings for servers that would refuse or mis-scale the adapter (vLLM, Ollama/llama.cpp)
     */
    public static List<String> save(LoraAdapter adapter, Path dir, String baseModelNameOrPath, String taskType,
                                    String dtype) {
        return save(adapter, dir, baseModelNameOrPath, taskType, dtype, Map.of());
    }

    /**
     * As {@link Peft#save(LoraAdapter, Path, String, String, String)}, plus fully trained modules saved
     * whole (PEFT's {@code modules_to_save}, e.g. a reward model's {@code score} head): each
     * {@code <module>.weight} is stored as {@code base_model.model.<module>.weight}.
     *
     * @param modulesToSave module name (e.g. "score") → its weight
     */
    public static List<String> save(LoraAdapter adapter, Path dir, String baseModelNameOrPath, String taskType,
                                    String dtype, Map<String, NDArray> modulesToSave) {
        String json = configJson(adapter, baseModelNameOrPath, taskType, List.copyOf(modulesToSave.keySet()));
        Map<String, NDArray> tensors = new LinkedHashMap<>(adapter.parameters());
        modulesToSave.forEach((module, weight) -> tensors.put("base_model.model." + module + ".weight", weight));
        Path abs = dir.toAbsolutePath();
        Path tmp = AtomicFiles.tempSibling(abs);
        try {
            Files.createDirectories(abs.getParent());
            Files.createDirectories(tmp);
            SafeTensorsWriter.write(tmp.resolve(WEIGHTS_FILE), tensors, Map.of("format", "pt"), dtype);
            Files.writeString(tmp.resolve(CONFIG_FILE), json);
            if (!Files.exists(abs) || AtomicFiles.isEmptyDir(abs)) {
                AtomicFiles.publishDirectory(tmp, abs);
            } else {
                if (!Files.isDirectory(abs)) {
                    throw new LoroException(abs + ": exists and is not a directory");
                }
                for (String f : List.of(WEIGHTS_FILE, CONFIG_FILE)) {
                    Files.move(tmp.resolve(f), abs.resolve(f), StandardCopyOption.ATOMIC_MOVE,
                            StandardCopyOption.REPLACE_EXISTING);
                }
            }
        } catch (IOException e) {
            throw new LoroException(abs + ": cannot write PEFT adapter: " + e, e);
        } finally {
            AtomicFiles.deleteTree(tmp);
        }
        List<String> warnings = new ArrayList<>(ServingWarnings.of(adapter.config()));
        if (!modulesToSave.isEmpty()) {
            warnings.add("vLLM refuses adapters with modules_to_save (" + modulesToSave.keySet()
                    + "); serve the merged checkpoint instead");
        }
        return warnings;
    }

    /** The adapter_config.json text PEFT would write: json.dumps(indent=2, sort_keys=True), no final newline. */
    public static String configJson(LoraAdapter adapter, String baseModelNameOrPath, String taskType) {
        return configJson(adapter, baseModelNameOrPath, taskType, List.of());
    }

    private static String configJson(LoraAdapter adapter, String baseModelNameOrPath, String taskType,
                                     List<String> modulesToSave) {
        LoraConfig c = adapter.config();
        Map<String, Object> o = new TreeMap<>();
        o.put("alpha_pattern", numbers(c.alphaPattern()));
        o.put("base_model_name_or_path", baseModelNameOrPath);
        o.put("bias", c.biasMode());
        o.put("fan_in_fan_out", false);
        o.put("inference_mode", true);
        o.put("init_lora_weights", true);
        o.put("layers_pattern", null);
        o.put("layers_to_transform", null);
        o.put("loftq_config", Map.of());
        o.put("lora_alpha", number(c.alpha()));
        o.put("lora_dropout", c.dropout());
        o.put("megatron_config", null);
        o.put("megatron_core", "megatron.core");
        o.put("modules_to_save", modulesToSave.isEmpty() ? null : modulesToSave);
        o.put("peft_type", "LORA");
        o.put("peft_version", PEFT_VERSION);
        o.put("r", c.r());
        o.put("rank_pattern", new TreeMap<>(c.rankPattern()));
        o.put("revision", null);
        o.put("target_modules", c.targetRegex() != null ? c.targetRegex() : adapter.targetShortNames());
        o.put("task_type", taskType);
        o.put("use_dora", false);
        o.put("use_rslora", c.useRslora());
        return asciiOnly(PyJson.dumps(o, "  "));
    }

    static Object number(double d) {
        return d == Math.rint(d) && Math.abs(d) < 1e15 ? (Object) (long) d : (Object) d;
    }

    private static Map<String, Object> numbers(Map<String, Double> m) {
        Map<String, Object> out = new TreeMap<>();
        m.forEach((k, v) -> out.put(k, number(v)));
        return out;
    }

    /** Python's ensure_ascii: every non-ASCII (or DEL) char as a lowercase \\uXXXX escape. */
    private static String asciiOnly(String s) {
        StringBuilder sb = new StringBuilder(s.length());
        for (int i = 0; i < s.length(); i++) {
            char ch = s.charAt(i);
            if (ch > 0x7e) {
                sb.append(String.format("\\u%04x", (int) ch));
            } else {
                sb.append(ch);
            }
        }
        return sb.toString();
    }
}
