package ai.loro.lora;

import static ai.loro.lora.Peft.*;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.loro.core.LoroException;
import ai.loro.core.io.JsonFields;
import ai.loro.core.io.SafeTensorsFile;
import ai.loro.core.io.TensorInfo;
import ai.loro.core.model.HfNames;
import ai.loro.core.model.LlamaConfig;
import ai.loro.core.model.LlamaModel;
import com.fasterxml.jackson.databind.JsonNode;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;

/** Reads and checks PEFT adapter folders; refuses what Loro cannot apply exactly, naming the file and key (docs/peft.md). */
final class PeftReader {
    private PeftReader() {}

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

    /**
     * Reads a PEFT LoRA adapter directory for {@code model}; the adapter is returned detached
     * ({@link LoraAdapter#attach} it). Unknown config keys are ignored as PEFT ignores them.
     */
    public static LoraAdapter load(Path dir, LlamaModel model) {
        return load(dir, model, 0);
    }

    /** {@link Peft#load(Path, LlamaModel)} with the seed its dropout masks derive from (when training on). */
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
