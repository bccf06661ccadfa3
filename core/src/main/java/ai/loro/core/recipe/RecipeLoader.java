package ai.loro.core.recipe;

import static ai.loro.core.recipe.Schema.ANY_INT;
import static ai.loro.core.recipe.Schema.BOOL;
import static ai.loro.core.recipe.Schema.DATASET_TYPE;
import static ai.loro.core.recipe.Schema.NON_NEGATIVE;
import static ai.loro.core.recipe.Schema.STRING;
import static ai.loro.core.recipe.Schema.number;
import static ai.loro.core.recipe.Schema.NON_NEGATIVE_INT;
import static ai.loro.core.recipe.Schema.MODEL;
import static ai.loro.core.recipe.Schema.PATH;
import static ai.loro.core.recipe.Schema.POSITIVE;
import static ai.loro.core.recipe.Schema.POSITIVE_INT;
import static ai.loro.core.recipe.Schema.STRING;
import static ai.loro.core.recipe.Schema.UNIT_OPEN;
import static ai.loro.core.recipe.Schema.block;
import static ai.loro.core.recipe.Schema.choice;
import static ai.loro.core.recipe.Schema.enumOf;
import static ai.loro.core.recipe.Schema.listOf;
import static ai.loro.core.recipe.Schema.namesOrAll;
import static ai.loro.core.recipe.Schema.opt;
import static ai.loro.core.recipe.Schema.req;

import ai.loro.core.recipe.Recipe.AdapterType;
import ai.loro.core.recipe.Recipe.Dtype;
import ai.loro.core.recipe.Recipe.LrScheduler;
import ai.loro.core.recipe.Recipe.Stage;
import ai.loro.core.recipe.Schema.Block;
import ai.loro.core.recipe.Schema.BlockType;
import ai.loro.core.recipe.Schema.Ctx;
import ai.loro.core.recipe.Schema.Type;
import ai.loro.core.recipe.YamlTree.YEntry;
import ai.loro.core.recipe.YamlTree.YMap;
import ai.loro.core.recipe.YamlTree.YNode;
import ai.loro.core.recipe.YamlTree.YSeq;
import ai.loro.core.LoroException;
import java.io.IOException;
import java.nio.charset.CharacterCodingException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Reads a recipe file, applies {@code --set key=value} overrides and validates the result once,
 * against the tables below. Every error is a one-line {@link LoroException} that names the file and
 * line (or the {@code --set} key), the key, and what is allowed.
 */
public final class RecipeLoader {
    private RecipeLoader() {}

    /** Data set formats known when the caller passes none. */
    public static final List<String> DATASET_TYPES = List.of("alpaca", "openorca", "sharegpt", "messages",
            "completion", "preference", "hh-rlhf", "oasst", "math-step-dpo", "ultrafeedback", "classification", "prompt");

    // ---------------------------------------------------------------- the schema, one table per block

    static final Block DATASET = block(
            req("path", PATH),
            req("type", DATASET_TYPE),
            opt("chat_template", choice(Recipe.CHAT_TEMPLATES)),
            opt("train_on_inputs", BOOL),
            opt("skip_bad_rows", BOOL));

    static final Block ADAPTER = block(
            opt("type", enumOf(AdapterType.class, AdapterType::yamlName), AdapterType.LORA),
            opt("r", POSITIVE_INT, 8),
            opt("alpha", POSITIVE, 16.0),
            opt("dropout", UNIT_OPEN, 0.05),
            opt("target_modules", namesOrAll(Recipe.TARGET_MODULES, "all-linear"),
                    List.of("q_proj", "k_proj", "v_proj", "o_proj")),
            opt("use_rslora", BOOL, false));

    /** {@code reward:} (stage reward). */
    static final Block REWARD = block(
            opt("num_labels", POSITIVE_INT, 1),
            opt("center_rewards_coefficient", NON_NEGATIVE, 0.0),
            opt("use_margin", BOOL, false),
            opt("labels", listOf(STRING, true, "a list of class names (label i = the i-th name)")));

    /** {@code dpo:} (stage dpo); names as TRL's DPOConfig. */
    static final Block DPO = block(
            opt("beta", POSITIVE, 0.1),
            opt("loss_type", choice(List.of("sigmoid", "ipo", "hinge", "robust")), "sigmoid"),
            opt("label_smoothing", number(v -> v >= 0 && v < 0.5, "a number in [0, 0.5)"), 0.0),
            opt("rpo_alpha", NON_NEGATIVE),
            opt("reference_model", MODEL),
            opt("precompute_ref_log_probs", BOOL, false),
            opt("reference_log_probs", PATH));

    /** {@code ppo:} (stage ppo); names as TRL's PPOConfig where it has them. */
    static final Block PPO = block(
            opt("reward_model", MODEL),
            opt("reward_functions", listOf(STRING, false, "a list of reward function names"), List.of()),
            opt("missing_eos_penalty", NON_NEGATIVE),
            opt("rollout_batch_size", POSITIVE_INT, 8),
            opt("num_mini_batches", POSITIVE_INT, 1),
            opt("ppo_epochs", POSITIVE_INT, 4),
            opt("max_new_tokens", POSITIVE_INT, 64),
            opt("temperature", POSITIVE, 0.7),
            opt("top_k", NON_NEGATIVE_INT, 0),
            opt("top_p", number(v -> v > 0 && v <= 1, "a number in (0, 1]"), 1.0),
            opt("kl_coef", NON_NEGATIVE, 0.05),
            opt("kl_estimator", choice(List.of("k1", "k3")), "k1"),
            opt("target_kl", POSITIVE),
            opt("kl_horizon", POSITIVE, 10000.0),
            opt("gamma", number(v -> v >= 0 && v <= 1, "a number in [0, 1]"), 1.0),
            opt("lam", number(v -> v >= 0 && v <= 1, "a number in [0, 1]"), 0.95),
            opt("cliprange", POSITIVE, 0.2),
            opt("cliprange_value", POSITIVE, 0.2),
            opt("vf_coef", NON_NEGATIVE, 0.1),
            opt("ent_coef", NON_NEGATIVE, 0.0),
            opt("whiten_rewards", BOOL, false),
            opt("sample_every", NON_NEGATIVE_INT, 10),
            opt("reward_classifier", MODEL),
            opt("reward_classifier_label", STRING));

    /** {@code grpo:} (stage grpo); names as TRL's GRPOConfig where it has them. */
    static final Block GRPO = block(
            opt("reward_model", MODEL),
            opt("reward_functions", listOf(STRING, false, "a list of reward function names"), List.of()),
            opt("reward_weights", listOf(number(v -> true, "a number"), false, "a list of numbers, one per reward")),
            opt("reward_classifier", MODEL),
            opt("reward_classifier_label", STRING),
            opt("num_generations", Schema.integer(2, "an integer >= 2 (completions per prompt)"), 8),
            opt("prompts_per_step", POSITIVE_INT, 4),
            opt("max_new_tokens", POSITIVE_INT, 64),
            opt("temperature", POSITIVE, 1.0),
            opt("top_k", NON_NEGATIVE_INT, 0),
            opt("top_p", number(v -> v > 0 && v <= 1, "a number in (0, 1]"), 1.0),
            opt("beta", NON_NEGATIVE, 0.0),
            opt("epsilon", POSITIVE, 0.2),
            opt("epsilon_high", POSITIVE),
            opt("num_iterations", POSITIVE_INT, 1),
            opt("steps_per_generation", POSITIVE_INT, 1),
            opt("loss_type", choice(List.of("grpo", "bnpo", "dr_grpo", "dapo")), "dapo"),
            opt("scale_rewards", choice(List.of("group", "batch", "none")), "group"),
            opt("importance_sampling_level", choice(List.of("token", "sequence")), "token"),
            opt("mask_truncated_completions", BOOL, false),
            opt("advantage", choice(List.of("grpo", "rloo")), "grpo"),
            opt("share_prefix", BOOL, true),
            opt("sample_every", NON_NEGATIVE_INT, 10));

    static final Block EXPORT = block(
            opt("merged", BOOL, false),
            opt("dtype", enumOf(Dtype.class, Dtype::yamlName), Dtype.F32));

    /** {@code val_set_size}: 0, a fraction in (0, 1), or a whole count >= 1. */
    static final Type VAL_SET_SIZE = (n, key, ctx) -> {
        String expected = "0, a fraction in (0, 1) or a whole count >= 1";
        double v = Schema.parseNumber(n, key, expected);
        if (v < 0 || (v >= 1 && v != Math.rint(v)) || Double.isInfinite(v)) {
            throw Schema.wrong(n, key, expected);
        }
        return v;
    };

    static final Block TOP = block(RecipeLoader::checkTop,
            req("stage", enumOf(Stage.class, Stage::yamlName)),
            req("base_model", MODEL),
            req("output_dir", PATH),
            opt("seed", ANY_INT, 42),
            req("datasets", listOf(new BlockType(DATASET), true, "a list of data sets (each with path and type)")),
            opt("chat_template", choice(Recipe.CHAT_TEMPLATES), "tokenizer"),
            opt("adapter", new BlockType(ADAPTER)),
            opt("quantize", choice(List.of("none", "int8", "nf4")), "none"),
            opt("deterministic", BOOL, false),
            opt("gradient_checkpointing", BOOL, false),
            opt("fp16", BOOL, false),
            opt("device", choice(List.of("cpu", "gpu", "auto")), "auto"),
            opt("sequence_len", POSITIVE_INT, 512),
            opt("micro_batch_size", POSITIVE_INT, 4),
            opt("gradient_accumulation_steps", POSITIVE_INT, 1),
            opt("num_epochs", POSITIVE, 1.0),
            opt("max_steps", POSITIVE_INT),
            opt("learning_rate", POSITIVE, 2e-4),
            opt("lr_scheduler", enumOf(LrScheduler.class, LrScheduler::yamlName), LrScheduler.COSINE),
            opt("warmup_steps", NON_NEGATIVE_INT, 0),
            opt("warmup_ratio", UNIT_OPEN),
            opt("weight_decay", NON_NEGATIVE, 0.0),
            opt("adam_beta1", UNIT_OPEN, 0.9),
            opt("adam_beta2", UNIT_OPEN, 0.999),
            opt("adam_epsilon", POSITIVE, 1e-8),
            opt("max_grad_norm", NON_NEGATIVE, 1.0),
            opt("logging_steps", POSITIVE_INT, 10),
            opt("eval_steps", POSITIVE_INT),
            opt("save_steps", POSITIVE_INT),
            opt("save_total_limit", POSITIVE_INT),
            opt("val_set_size", VAL_SET_SIZE, 0.0),
            opt("train_on_inputs", BOOL, false),
            opt("packing", BOOL, false),
            opt("skip_bad_rows", BOOL, false),
            opt("progress_bar", BOOL, true),
            opt("export", new BlockType(EXPORT)),
            opt("reward", new BlockType(REWARD)),
            opt("dpo", new BlockType(DPO)),
            opt("ppo", new BlockType(PPO)),
            opt("grpo", new BlockType(GRPO)));

    private static void checkTop(YMap node, Map<String, Object> values, String path) {
        YEntry steps = node.entries().get("warmup_steps");
        YEntry ratio = node.entries().get("warmup_ratio");
        if (steps != null && ratio != null && !YamlTree.isNull(steps.value()) && !YamlTree.isNull(ratio.value())) {
            YEntry later = isAfter(node, "warmup_ratio") ? ratio : steps;
            throw new LoroException(later.keyWhere() + ": 'warmup_steps' and 'warmup_ratio' are mutually"
                    + " exclusive (set one of them)");
        }
    }

    private static boolean isAfter(YMap node, String key) {
        boolean seenOther = false;
        for (String k : node.entries().keySet()) {
            if (k.equals(key)) {
                return seenOther;
            }
            seenOther |= k.equals("warmup_steps") || k.equals("warmup_ratio");
        }
        return false;
    }

    // ---------------------------------------------------------------- entry points

    /** Loads {@code recipeFile} with {@code setOverrides} ({@code key=value}), knowing {@link #DATASET_TYPES}. */
    public static Recipe load(Path recipeFile, List<String> setOverrides) {
        return load(recipeFile, setOverrides, DATASET_TYPES);
    }

    /** As {@link #load(Path, List)}, with the data set {@code type}s the caller knows. */
    public static Recipe load(Path recipeFile, List<String> setOverrides, Collection<String> datasetTypes) {
        String label = recipeFile.toString();
        String text;
        try {
            text = Files.readString(recipeFile);
        } catch (NoSuchFileException e) {
            throw new LoroException(label + ": no such recipe file", e);
        } catch (CharacterCodingException e) {
            throw new LoroException(label + ": not UTF-8 text", e);
        } catch (IOException e) {
            throw new LoroException(label + ": cannot read the recipe (" + e.getMessage() + ")", e);
        }
        Path dir = recipeFile.toAbsolutePath().normalize().getParent();
        return parse(text, label, dir, setOverrides, datasetTypes);
    }

    /**
     * Parses recipe text. {@code label} names it in messages; relative paths resolve against
     * {@code baseDir}.
     */
    public static Recipe parse(String text, String label, Path baseDir, List<String> setOverrides,
                               Collection<String> datasetTypes) {
        return parse(text, label, baseDir, setOverrides, datasetTypes, System::getenv);
    }

    /** As {@link #parse(String, String, Path, List, Collection)}, reading environment variables from {@code env}. */
    static Recipe parse(String text, String label, Path baseDir, List<String> setOverrides,
                        Collection<String> datasetTypes, java.util.function.Function<String, String> env) {
        YNode root = YamlTree.parse(text, label);
        YMap top;
        if (root == null || YamlTree.isNull(root)) {
            top = new YMap(new LinkedHashMap<>(), label + ":1");
        } else if (root instanceof YMap m) {
            top = m;
        } else {
            throw new LoroException(root.where() + ": a recipe is a block of keys (stage, base_model, output_dir,"
                    + " datasets, ...), got " + YamlTree.describe(root));
        }
        YEntry stages = top.entries().get("stages");
        if (stages != null) {
            throw new LoroException(stages.keyWhere() + ": pipelines are not supported yet ('stages' lists"
                    + " several stages; write one recipe per stage and run each with 'loro train')");
        }
        for (String s : setOverrides == null ? List.<String>of() : setOverrides) {
            applySet(top, s);
        }
        Ctx ctx = new Ctx(baseDir.toAbsolutePath().normalize(), List.copyOf(datasetTypes), env);
        return Recipe.fromValues(Schema.readBlock(TOP, top, "", ctx));
    }

    // ---------------------------------------------------------------- --set

    /** Applies one {@code key=value}: dotted key, list entries by index ({@code datasets.0.path} or {@code datasets[0].path}). */
    static void applySet(YMap top, String set) {
        int eq = set.indexOf('=');
        if (eq <= 0) {
            throw new LoroException("--set " + set + ": expected key=value (e.g. --set adapter.r=16)");
        }
        String key = set.substring(0, eq).trim();
        String where = "--set " + key;
        String[] segs = key.replaceAll("\\[(\\d+)]", ".$1").split("\\.", -1);
        for (String s : segs) {
            if (s.isEmpty()) {
                throw new LoroException(where + ": malformed key (expected names joined by dots, e.g. adapter.r)");
            }
        }
        if (segs[0].equals("stages")) {
            throw new LoroException(where + ": pipelines are not supported yet");
        }
        YNode value = YamlTree.parseValue(set.substring(eq + 1), where);
        YNode cur = top;
        String path = "";
        for (int i = 0; i < segs.length; i++) {
            String seg = segs[i];
            boolean last = i == segs.length - 1;
            if (cur instanceof YMap m) {
                YEntry e = m.entries().get(seg);
                if (last) {
                    m.entries().put(seg, new YEntry(where, value));
                } else if (e == null || YamlTree.isNull(e.value())) {
                    YNode fresh = freshContainer(segs[i + 1], where);
                    m.entries().put(seg, new YEntry(where, fresh));
                    cur = fresh;
                } else {
                    cur = e.value();
                }
            } else if (cur instanceof YSeq s) {
                int idx = index(seg, s, path, where);
                if (last) {
                    if (idx == s.items().size()) {
                        s.items().add(value);
                    } else {
                        s.items().set(idx, value);
                    }
                } else if (idx == s.items().size()) {
                    YNode fresh = freshContainer(segs[i + 1], where);
                    s.items().add(fresh);
                    cur = fresh;
                } else {
                    cur = s.items().get(idx);
                }
            } else {
                throw new LoroException(where + ": '" + path + "' is a single value (" + YamlTree.describe(cur)
                        + "), so it has no '" + seg + "'");
            }
            path = Schema.child(path, seg);
        }
    }

    private static YNode freshContainer(String nextSeg, String where) {
        return nextSeg.chars().allMatch(Character::isDigit)
                ? new YSeq(new java.util.ArrayList<>(), where)
                : new YMap(new LinkedHashMap<>(), where);
    }

    private static int index(String seg, YSeq s, String path, String where) {
        if (!seg.chars().allMatch(Character::isDigit) || seg.length() > 6) {
            throw new LoroException(where + ": '" + path + "' is a list; name an entry by its index (e.g. "
                    + path + ".0." + seg + ")");
        }
        int idx = Integer.parseInt(seg);
        if (idx > s.items().size()) {
            throw new LoroException(where + ": index " + idx + " is out of range ('" + path + "' has "
                    + s.items().size() + " entries; use " + s.items().size() + " to add one)");
        }
        return idx;
    }
}
