package ai.loro.lora;

import ai.loro.core.LoroException;
import ai.loro.core.model.HfNames;
import java.util.ArrayList;
import java.util.Collections;
import java.util.EnumSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Pattern;
import java.util.regex.PatternSyntaxException;

/**
 * LoRA hyper-parameters with PEFT's semantics ({@code peft.LoraConfig}).
 *
 * @param r default rank
 * @param alpha default {@code lora_alpha}
 * @param dropout {@code lora_dropout} on the adapter branch's input, in [0, 1)
 * @param useRslora scale by {@code alpha / sqrt(r)} instead of {@code alpha / r}
 * @param targetModules short projection names ({@code q_proj} … {@code down_proj}), sorted and
 *     de-duplicated; {@code ["all-linear"]} expands to all seven. Ignored for matching when
 *     {@code targetRegex} is set.
 * @param rankPattern PEFT {@code rank_pattern}: key (a regex) → rank, the key matched against a
 *     module name as {@code (.*\.)?(key)$}; the first matching key in insertion order wins
 * @param alphaPattern PEFT {@code alpha_pattern}, same matching
 * @param biasMode only {@code "none"} is supported
 * @param targetRegex a PEFT regex-string {@code target_modules}, matched against full module names
 *     with {@code re.fullmatch} semantics, or null (only set when importing such an adapter)
 */
public record LoraConfig(int r, double alpha, double dropout, boolean useRslora, List<String> targetModules,
                         Map<String, Integer> rankPattern, Map<String, Double> alphaPattern, String biasMode,
                         String targetRegex) {
    public static final String ALL_LINEAR = "all-linear";

    /** The short names a target may use, in the model's order. */
    public static final List<String> ALLOWED_MODULES;

    static {
        List<String> names = new ArrayList<>();
        for (HfNames.Proj p : HfNames.Proj.values()) {
            names.add(p.shortName());
        }
        ALLOWED_MODULES = List.copyOf(names);
    }

    public LoraConfig {
        if (r < 1) {
            throw new LoroException("LoRA r must be >= 1, got " + r);
        }
        if (!(alpha > 0) || Double.isInfinite(alpha)) {
            throw new LoroException("LoRA alpha must be > 0, got " + alpha);
        }
        if (!(dropout >= 0 && dropout < 1)) {
            throw new LoroException("LoRA dropout must be in [0, 1), got " + dropout);
        }
        if (biasMode == null) {
            biasMode = "none";
        }
        if (!biasMode.equals("none")) {
            if (biasMode.equals("all") || biasMode.equals("lora_only")) {
                throw new LoroException("LoRA bias '" + biasMode + "' is not supported (only 'none'; vLLM also refuses adapter biases)");
            }
            throw new LoroException("LoRA bias '" + biasMode + "' is not a PEFT bias mode (allowed: none; all and lora_only are not supported)");
        }
        if (targetRegex != null) {
            try {
                Pattern.compile(targetRegex);
            } catch (PatternSyntaxException e) {
                throw new LoroException("LoRA target_modules regex '" + targetRegex + "' does not compile: "
                        + e.getDescription());
            }
            targetModules = List.of();
        } else {
            if (targetModules == null || targetModules.isEmpty()) {
                throw new LoroException("LoRA target_modules is empty (allowed: " + ALLOWED_MODULES + " or '" + ALL_LINEAR + "')");
            }
            Set<String> sorted = new TreeSet<>();
            for (String t : targetModules) {
                if (ALL_LINEAR.equals(t)) {
                    if (targetModules.size() != 1) {
                        throw new LoroException("LoRA target_modules: '" + ALL_LINEAR + "' must be the only entry, got " + targetModules);
                    }
                    sorted.addAll(ALLOWED_MODULES);
                } else if (ALLOWED_MODULES.contains(t)) {
                    sorted.add(t);
                } else {
                    throw new LoroException("LoRA target_modules: unknown module '" + t + "' (allowed: "
                            + String.join(", ", ALLOWED_MODULES) + ", or '" + ALL_LINEAR + "')");
                }
            }
            targetModules = List.copyOf(sorted);
        }
        rankPattern = rankPattern == null ? Map.of() : Collections.unmodifiableMap(new LinkedHashMap<>(rankPattern));
        alphaPattern = alphaPattern == null ? Map.of() : Collections.unmodifiableMap(new LinkedHashMap<>(alphaPattern));
        for (Map.Entry<String, Integer> e : rankPattern.entrySet()) {
            compileKey("rank_pattern", e.getKey());
            if (e.getValue() == null || e.getValue() < 1) {
                throw new LoroException("LoRA rank_pattern['" + e.getKey() + "'] must be >= 1, got " + e.getValue());
            }
        }
        for (Map.Entry<String, Double> e : alphaPattern.entrySet()) {
            compileKey("alpha_pattern", e.getKey());
            if (e.getValue() == null || !(e.getValue() > 0) || e.getValue().isInfinite()) {
                throw new LoroException("LoRA alpha_pattern['" + e.getKey() + "'] must be > 0, got " + e.getValue());
            }
        }
    }

    /** Rank, alpha, dropout and targets; no rsLoRA, no patterns, bias "none". */
    public static LoraConfig of(int r, double alpha, double dropout, String... targetModules) {
        return new LoraConfig(r, alpha, dropout, false, List.of(targetModules), null, null, "none", null);
    }

    public LoraConfig withRslora(boolean on) {
        return new LoraConfig(r, alpha, dropout, on, targetModules, rankPattern, alphaPattern, biasMode, targetRegex);
    }

    public LoraConfig withPatterns(Map<String, Integer> ranks, Map<String, Double> alphas) {
        return new LoraConfig(r, alpha, dropout, useRslora, targetModules, ranks, alphas, biasMode, targetRegex);
    }

    /** PEFT's scaling for a module of rank {@code rank} with this config's default alpha. */
    public double scale(int rank) {
        return scale(rank, alpha);
    }

    /** {@code alpha / r}, or {@code alpha / sqrt(r)} with rsLoRA. */
    public double scale(int rank, double a) {
        return useRslora ? a / Math.sqrt(rank) : a / rank;
    }

    /** Whether a full module name (e.g. {@code model.layers.0.self_attn.q_proj}) is a target. */
    public boolean targets(String moduleName) {
        if (targetRegex != null) {
            return Pattern.compile(targetRegex).matcher(moduleName).matches();
        }
        for (String t : targetModules) {
            if (moduleName.equals(t) || moduleName.endsWith("." + t)) {
                return true;
            }
        }
        return false;
    }

    /** The targeted projection kinds (for a list target); all kinds that can match for a regex. */
    public Set<HfNames.Proj> targetProjections() {
        Set<HfNames.Proj> out = EnumSet.noneOf(HfNames.Proj.class);
        for (HfNames.Proj p : HfNames.Proj.values()) {
            if (targetRegex != null || targetModules.contains(p.shortName())) {
                out.add(p);
            }
        }
        return out;
    }

    /** The rank of a module: the first matching {@code rank_pattern} key's value, else {@code r}. */
    public int rankFor(String moduleName) {
        String key = patternKey(rankPattern.keySet(), moduleName);
        return key == null ? r : rankPattern.get(key);
    }

    /** The alpha of a module: the first matching {@code alpha_pattern} key's value, else {@code alpha}. */
    public double alphaFor(String moduleName) {
        String key = patternKey(alphaPattern.keySet(), moduleName);
        return key == null ? alpha : alphaPattern.get(key);
    }

    /** The scaling of a module, from its rank and alpha. */
    public double scaleFor(String moduleName) {
        return scale(rankFor(moduleName), alphaFor(moduleName));
    }

    /** The largest rank any module may get (r and every rank_pattern value). */
    public int maxRank() {
        int m = r;
        for (int v : rankPattern.values()) {
            m = Math.max(m, v);
        }
        return m;
    }

    /** PEFT's {@code re.match(rf"(.*\.)?({key})$", name)}; the first key that matches, or null. */
    static String patternKey(Iterable<String> keys, String moduleName) {
        for (String key : keys) {
            if (Pattern.compile("(.*\\.)?(" + key + ")").matcher(moduleName).matches()) {
                return key;
            }
        }
        return null;
    }

    private static void compileKey(String field, String key) {
        try {
            Pattern.compile("(.*\\.)?(" + key + ")");
        } catch (PatternSyntaxException e) {
            throw new LoroException("LoRA " + field + " key '" + key + "' is not a valid regex: " + e.getDescription());
        }
    }
}
