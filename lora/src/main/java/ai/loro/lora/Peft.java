package ai.loro.lora;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.loro.core.LoroException;
import ai.loro.core.io.SafeTensorsFile;
import ai.loro.core.io.AtomicFiles;
import ai.loro.core.io.JsonFields;
import ai.loro.core.io.SafeTensorsWriter;
import ai.loro.core.io.TensorInfo;
import ai.loro.core.model.HfNames;
import ai.loro.core.model.LlamaConfig;
import ai.loro.core.model.LlamaModel;
import ai.loro.core.io.PyJson;
import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;

/**
 * Hugging Face PEFT LoRA adapter directories (docs/peft.md): {@code adapter_config.json} as PEFT
 * writes it and {@code adapter_model.safetensors} with keys
 * {@code base_model.model.<module>.lora_A.weight} [r, in] / {@code .lora_B.weight} [out, r].
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

    private static final Pattern LORA_KEY =
            Pattern.compile("base_model\\.model\\.(.+)\\.lora_([AB])(?:\\.([^.]+))?\\.weight");
    private static final Pattern MODULE = Pattern.compile("model\\.layers\\.(\\d+)\\.(self_attn|mlp)\\.([a-z_]+)");

    /** A reward model's / classifier's head saved whole under modules_to_save. */
    static final String SCORE_KEY = "base_model.model." + HfNames.SCORE;

    private static void loadScoreHead(SafeTensorsFile f, LlamaModel model, String where) {
        NDArray score = model.parameters().get(HfNames.SCORE);
        if (score == null) {
            throw new LoroException(where + ": the adapter carries a classification head but the model is a "
                    + model.config().architecture() + " (load the base as a sequence classifier)");
        }
        TensorInfo info = f.tensors().get(SCORE_KEY);
        if (!Arrays.equals(info.shape(), score.getShape().getShape())) {
            throw new LoroException(where + ": shape " + Arrays.toString(info.shape()) + " but the model's head is "
                    + score.getShape());
        }
        float[] values = f.readFloats(SCORE_KEY);
        try (NDManager tmp = score.getManager().newSubManager()) {
            score.set(tmp.create(values).toType(score.getDataType(), false).toByteBuffer());
        }
    }

    // ------------------------------------------------------------------ export

    /** {@link #save(LoraAdapter, Path, String, String, String)} with F32 weights. */
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
     * As {@link #save(LoraAdapter, Path, String, String, String)}, plus fully trained modules saved
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
        List<String> warnings = new ArrayList<>(warnings(adapter.config()));
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

    /** Warnings for vLLM and Ollama/llama.cpp about an adapter with this config. */
    public static List<String> warnings(LoraConfig c) {
        List<String> w = new ArrayList<>();
        int max = c.maxRank();
        Set<Integer> ranks = new java.util.TreeSet<>(c.rankPattern().values());
        ranks.add(c.r());
        for (int r : ranks) {
            if (r > VLLM_MAX_LORA_RANKS.get(VLLM_MAX_LORA_RANKS.size() - 1)) {
                w.add("vLLM: rank " + r + " is above the largest max_lora_rank vLLM supports ("
                        + VLLM_MAX_LORA_RANKS.get(VLLM_MAX_LORA_RANKS.size() - 1) + "); vLLM will refuse this adapter");
            } else if (!VLLM_MAX_LORA_RANKS.contains(r)) {
                w.add("vLLM: rank " + r + " is not one of vLLM's max_lora_rank values " + VLLM_MAX_LORA_RANKS
                        + "; it loads under any --max-lora-rank >= " + r + " (smallest: " + nextVllmRank(r) + ")"
                        + (r <= VLLM_DEFAULT_MAX_LORA_RANK ? ", which the default " + VLLM_DEFAULT_MAX_LORA_RANK + " covers" : ""));
            }
        }
        if (max > VLLM_DEFAULT_MAX_LORA_RANK && max <= 512) {
            w.add("vLLM: rank " + max + " is greater than vLLM's default max_lora_rank " + VLLM_DEFAULT_MAX_LORA_RANK
                    + "; start vLLM with --max-lora-rank " + nextVllmRank(max));
        }
        if (!c.biasMode().equals("none")) {
            w.add("vLLM: bias '" + c.biasMode() + "' is refused (\"Adapter bias is not supported.\")");
        }
        if (!c.rankPattern().isEmpty() || !c.alphaPattern().isEmpty()) {
            w.add("vLLM: rank_pattern/alpha_pattern give modules their own scale; vLLM applies one lora_alpha/r to every module");
        }
        if (!c.alphaPattern().isEmpty()) {
            w.add("Ollama/llama.cpp: alpha_pattern is ignored (one lora_alpha for every module)");
        }
        if (c.useRslora()) {
            w.add("Ollama/llama.cpp: use_rslora is ignored (they scale by lora_alpha/r); to reproduce lora_alpha/sqrt(r) "
                    + "convert with lora_alpha = " + number(c.alpha() * Math.sqrt(c.r())) + " (lora_alpha·sqrt(r))");
        }
        return w;
    }

    private static int nextVllmRank(int r) {
        for (int v : VLLM_MAX_LORA_RANKS) {
            if (v >= r) {
                return v;
            }
        }
        return r;
    }

    private static Object number(double d) {
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

    // ------------------------------------------------------------------ import

    /**
     * Reads a PEFT LoRA adapter directory for {@code model}; the adapter is returned detached
     * ({@link LoraAdapter#attach} it). Unknown config keys are ignored as PEFT ignores them.
     */
    public static LoraAdapter load(Path dir, LlamaModel model) {
        return load(dir, model, 0);
    }

    /** {@link #load(Path, LlamaModel)} with the seed its dropout masks derive from (when training on). */
    public static LoraAdapter load(Path dir, LlamaModel model, long dropoutSeed) {
        Path cfgFile = dir.resolve(CONFIG_FILE);
        LoraConfig config = readConfig(dir);
        Set<Integer> layers = layersToTransform(cfgFile);
        Path weights = dir.resolve(WEIGHTS_FILE);
        if (!Files.isRegularFile(weights)) {
            if (Files.isRegularFile(dir.resolve("adapter_model.bin"))) {
                throw new LoroException(dir.resolve("adapter_model.bin") + ": pickle adapters are not supported; "
                        + "save the adapter with safe_serialization=True (adapter_model.safetensors)");
            }
            throw new LoroException(weights + ": adapter weights file not found");
        }
        LlamaConfig mc = model.config();
        NDManager manager = NDManager.newBaseManager(model.manager().getDevice());
        try (SafeTensorsFile f = SafeTensorsFile.open(weights)) {
            Map<String, String[]> keys = new LinkedHashMap<>(); // module → {A key, B key}
            for (String key : f.tensors().keySet()) {
                String where = weights + ": tensor '" + key + "'";
                if (key.equals(SCORE_KEY)) {
                    loadScoreHead(f, model, where);
                    continue;
                }
                if (key.contains("lora_embedding_")) {
                    throw new LoroException(where + ": embedding LoRA (lora_embedding_A/B) is not supported");
                }
                if (key.contains("lora_magnitude_vector")) {
                    throw new LoroException(where + ": DoRA (lora_magnitude_vector) is not supported");
                }
                if (key.matches(".*\\.lora_B(\\.[^.]+)?\\.bias")) {
                    throw new LoroException(where + ": LoRA biases (lora_bias) are not supported");
                }
                Matcher km = LORA_KEY.matcher(key);
                if (!km.matches()) {
                    throw new LoroException(where + ": not a LoRA A/B weight (full weights from modules_to_save, "
                            + "or a key without the 'base_model.model.' prefix, are not supported)");
                }
                String module = km.group(1);
                int which = km.group(2).equals("A") ? 0 : 1;
                HfNames.Proj proj = projOf(module, mc);
                if (proj == null) {
                    throw new LoroException(where + ": module '" + module + "' is not a projection of this "
                            + mc.architecture() + " model (" + mc.numHiddenLayers() + " layers; "
                            + String.join(", ", LoraConfig.ALLOWED_MODULES) + ")");
                }
                if (!config.targets(module)) {
                    throw new LoroException(where + ": module '" + module + "' is not matched by target_modules "
                            + LoraAdapter.describeTargets(config) + " in " + cfgFile);
                }
                if (layers != null && !layers.contains(layerOf(module))) {
                    throw new LoroException(where + ": layer " + layerOf(module) + " is not in layers_to_transform "
                            + layers + " of " + cfgFile);
                }
                String[] pair = keys.computeIfAbsent(module, k -> new String[2]);
                if (pair[which] != null) {
                    throw new LoroException(where + ": duplicates tensor '" + pair[which] + "' (two adapter names?)");
                }
                pair[which] = key;
            }
            if (keys.isEmpty()) {
                throw new LoroException(weights + ": holds no LoRA tensors");
            }
            Map<String, NDArray[]> arrays = new LinkedHashMap<>();
            for (Map.Entry<String, String[]> e : keys.entrySet()) {
                String module = e.getKey();
                String[] pair = e.getValue();
                for (int i = 0; i < 2; i++) {
                    if (pair[i] == null) {
                        String have = pair[1 - i];
                        throw new LoroException(weights + ": tensor '" + have + "' has no lora_" + (i == 0 ? "A" : "B")
                                + " partner for module '" + module + "'");
                    }
                }
                HfNames.Proj proj = projOf(module, mc);
                int r = config.rankFor(module);
                long[] wantA = {r, proj.inFeatures(mc)};
                long[] wantB = {proj.outFeatures(mc), r};
                checkShape(weights, f.info(pair[0]), wantA, cfgFile);
                checkShape(weights, f.info(pair[1]), wantB, cfgFile);
                arrays.put(module, new NDArray[] {f.load(pair[0], manager, model.dtype()), f.load(pair[1], manager, model.dtype())});
            }
            return LoraAdapter.fromArrays(model, config, dropoutSeed, manager, arrays);
        } catch (RuntimeException e) {
            manager.close();
            throw e;
        }
    }

    private static void checkShape(Path weights, TensorInfo info, long[] want, Path cfgFile) {
        if (!Arrays.equals(info.shape(), want)) {
            throw new LoroException(weights + ": tensor '" + info.name() + "' has shape " + Arrays.toString(info.shape())
                    + " but the model and r/rank_pattern in " + cfgFile.getFileName() + " imply " + Arrays.toString(want));
        }
    }

    private static int layerOf(String module) {
        Matcher m = MODULE.matcher(module);
        return m.matches() ? Integer.parseInt(m.group(1)) : -1;
    }

    /** The projection a module name denotes in this model, or null. */
    static HfNames.Proj projOf(String module, LlamaConfig c) {
        Matcher m = MODULE.matcher(module);
        if (!m.matches()) {
            return null;
        }
        int layer;
        try {
            layer = Integer.parseInt(m.group(1));
        } catch (NumberFormatException e) {
            return null;
        }
        if (layer >= c.numHiddenLayers()) {
            return null;
        }
        for (HfNames.Proj p : HfNames.Proj.values()) {
            if (HfNames.module(layer, p).equals(module)) {
                return p;
            }
        }
        return null;
    }

    /** Parses and checks adapter_config.json; refuses what Loro cannot apply exactly. */
    public static LoraConfig readConfig(Path dir) {
        Path file = dir.resolve(CONFIG_FILE);
        JsonNode root = JsonFields.readObject(file, "adapter config not found");
        JsonFields f = new JsonFields(root, file.toString());
        String peftType = f.string("peft_type", "LORA");
        if (!"LORA".equals(peftType)) {
            throw new LoroException(file + ": key 'peft_type' is '" + peftType + "'; only LORA adapters are supported");
        }
        if (f.bool("use_dora", false)) {
            throw new LoroException(file + ": key 'use_dora' is true; DoRA adapters are not supported");
        }
        if (f.bool("fan_in_fan_out", false)) {
            throw new LoroException(file + ": key 'fan_in_fan_out' is true; only nn.Linear (fan_in_fan_out=false) adapters are supported");
        }
        if (f.bool("lora_bias", false)) {
            throw new LoroException(file + ": key 'lora_bias' is true; LoRA biases are not supported");
        }
        String bias = f.string("bias", "none");
        if (!"none".equals(bias)) {
            throw new LoroException(file + ": key 'bias' is '" + bias + "'; only \"none\" is supported");
        }
        JsonNode mts = root.get("modules_to_save");
        if (mts != null && !mts.isNull() && !(mts.isArray() && mts.isEmpty())) {
            boolean headsOnly = mts.isArray();
            for (JsonNode m : mts) {
                headsOnly &= m.isTextual() && (m.asText().equals("score") || m.asText().equals("classifier"));
            }
            if (!headsOnly) {
                throw new LoroException(file + ": key 'modules_to_save' is " + mts.toString()
                        + "; only a sequence-classification head (\"score\") can be saved whole");
            }
        }
        int r = f.integer("r", 8);
        double alpha = f.number("lora_alpha", 8);
        double dropout = f.number("lora_dropout", 0);
        boolean rslora = f.bool("use_rslora", false);
        JsonNode tm = root.get("target_modules");
        List<String> targets = null;
        String regex = null;
        if (tm == null || tm.isNull()) {
            throw new LoroException(file + ": key 'target_modules' is missing or null");
        } else if (tm.isTextual()) {
            if (tm.asText().equals(LoraConfig.ALL_LINEAR)) {
                targets = List.of(LoraConfig.ALL_LINEAR);
            } else {
                regex = tm.asText();
            }
        } else if (tm.isArray()) {
            List<String> list = new ArrayList<>();
            for (JsonNode n : tm) {
                if (!n.isTextual()) {
                    throw new LoroException(file + ": key 'target_modules' holds a non-string entry " + n);
                }
                list.add(n.asText());
            }
            if (LoraConfig.ALLOWED_MODULES.containsAll(list) && !list.isEmpty()) {
                targets = list;
            } else {
                // PEFT's list semantics (name == entry or ends with "." + entry) as a fullmatch regex
                regex = "(.*\\.)?(" + list.stream().map(Pattern::quote).collect(Collectors.joining("|")) + ")";
            }
        } else {
            throw new LoroException(file + ": key 'target_modules' must be a list of names or a regex string, got " + tm);
        }
        Map<String, Integer> rankPattern = new LinkedHashMap<>();
        Map<String, Double> alphaPattern = new LinkedHashMap<>();
        JsonNode rp = root.get("rank_pattern");
        if (rp != null && !rp.isNull()) {
            if (!rp.isObject()) {
                throw new LoroException(file + ": key 'rank_pattern' must be an object, got " + rp);
            }
            rp.fields().forEachRemaining(e -> {
                if (!e.getValue().isIntegralNumber()) {
                    throw new LoroException(file + ": key 'rank_pattern." + e.getKey() + "' must be an integer, got " + e.getValue());
                }
                rankPattern.put(e.getKey(), e.getValue().asInt());
            });
        }
        JsonNode ap = root.get("alpha_pattern");
        if (ap != null && !ap.isNull()) {
            if (!ap.isObject()) {
                throw new LoroException(file + ": key 'alpha_pattern' must be an object, got " + ap);
            }
            ap.fields().forEachRemaining(e -> {
                if (!e.getValue().isNumber()) {
                    throw new LoroException(file + ": key 'alpha_pattern." + e.getKey() + "' must be a number, got " + e.getValue());
                }
                alphaPattern.put(e.getKey(), e.getValue().asDouble());
            });
        }
        try {
            return new LoraConfig(r, alpha, dropout, rslora, targets, rankPattern, alphaPattern, bias, regex);
        } catch (LoroException e) {
            throw new LoroException(file + ": " + e.getMessage(), e);
        }
    }

    private static Set<Integer> layersToTransform(Path file) {
        JsonNode n = JsonFields.readObject(file, "adapter config not found").get("layers_to_transform");
        if (n == null || n.isNull()) {
            return null;
        }
        Set<Integer> out = new HashSet<>();
        if (n.isIntegralNumber()) {
            out.add(n.asInt());
        } else if (n.isArray()) {
            for (JsonNode e : n) {
                if (!e.isIntegralNumber()) {
                    throw new LoroException(file + ": key 'layers_to_transform' holds a non-integer " + e);
                }
                out.add(e.asInt());
            }
        } else {
            throw new LoroException(file + ": key 'layers_to_transform' must be an integer or a list of integers, got " + n);
        }
        return out;
    }





}
