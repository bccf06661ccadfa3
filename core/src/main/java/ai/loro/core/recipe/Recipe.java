package ai.loro.core.recipe;

import ai.loro.core.LoroException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.OptionalDouble;
import java.util.OptionalInt;
import org.yaml.snakeyaml.DumperOptions;
import org.yaml.snakeyaml.Yaml;

/**
 * A validated, fully resolved training recipe: every path absolute, every default filled. Made by
 * {@link RecipeLoader#load}; nothing downstream re-validates it. Optional settings with no default
 * are {@code Optional*} (empty = not set).
 *
 * @param stage            {@code stage}: sft | reward | dpo | ppo | grpo
 * @param baseModel        {@code base_model}: the HF checkpoint folder
 * @param outputDir        {@code output_dir}
 * @param seed             {@code seed} (42)
 * @param datasets         {@code datasets}: at least one
 * @param chatTemplate     {@code chat_template}: "tokenizer" (the tokenizer's own) or a builtin name
 * @param adapter          {@code adapter}
 * @param sequenceLen      {@code sequence_len} (512)
 * @param microBatchSize   {@code micro_batch_size} (4)
 * @param gradientAccumulationSteps {@code gradient_accumulation_steps} (1)
 * @param numEpochs        {@code num_epochs} (1)
 * @param maxSteps         {@code max_steps}: when set, overrides {@code num_epochs}
 * @param learningRate     {@code learning_rate} (2e-4)
 * @param lrScheduler      {@code lr_scheduler} (cosine)
 * @param warmupSteps      {@code warmup_steps} (0); ignored when {@code warmupRatio} is set
 * @param warmupRatio      {@code warmup_ratio}: fraction of total steps, exclusive with warmup_steps
 * @param weightDecay      {@code weight_decay} (0)
 * @param adamBeta1        {@code adam_beta1} (0.9)
 * @param adamBeta2        {@code adam_beta2} (0.999)
 * @param adamEpsilon      {@code adam_epsilon} (1e-8)
 * @param maxGradNorm      {@code max_grad_norm} (1.0; 0 = no clipping)
 * @param loggingSteps     {@code logging_steps} (10)
 * @param evalSteps        {@code eval_steps}
 * @param saveSteps        {@code save_steps}
 * @param saveTotalLimit   {@code save_total_limit}
 * @param valSetSize       {@code val_set_size} (0): a fraction in (0, 1) or a whole count >= 1
 * @param trainOnInputs    {@code train_on_inputs} (false)
 * @param packing          {@code packing} (false)
 * @param skipBadRows      {@code skip_bad_rows} (false)
 * @param progressBar      {@code progress_bar} (true)
 * @param export           {@code export}
 * @param quantize         {@code quantize}: none | int8 | nf4 (none): the frozen base's projections held quantized (QLoRA-style)
 * @param deterministic    {@code deterministic} (false): libtorch single-threaded, so a resumed run is bit-identical to
 *                         an uninterrupted one even on a busy machine (multi-threaded kernels may split sums
 *                         differently under load); slower
 * @param gradientCheckpointing {@code gradient_checkpointing} (false): keep only each decoder layer's input during
 *                         the forward pass and re-run the layer in the backward pass (transformers' name); one more
 *                         forward pass of compute for all but one layer's activations of memory
 * @param fp16             {@code fp16} (false): mixed precision (transformers' name): the models in fp16, fp32 master
 *                         weights and moments for the trainable parameters, dynamic loss scaling
 * @param device           {@code device}: cpu | gpu | auto (auto): where the models live; auto = the first GPU DJL's
 *                         engine sees, else the CPU; gpu without a visible GPU is an error
 * @param ppo              {@code ppo}
 * @param grpo             {@code grpo}
 */
public record Recipe(
        Stage stage,
        Path baseModel,
        Path outputDir,
        int seed,
        List<Dataset> datasets,
        String chatTemplate,
        Adapter adapter,
        int sequenceLen,
        int microBatchSize,
        int gradientAccumulationSteps,
        double numEpochs,
        OptionalInt maxSteps,
        double learningRate,
        LrScheduler lrScheduler,
        int warmupSteps,
        OptionalDouble warmupRatio,
        double weightDecay,
        double adamBeta1,
        double adamBeta2,
        double adamEpsilon,
        double maxGradNorm,
        int loggingSteps,
        OptionalInt evalSteps,
        OptionalInt saveSteps,
        OptionalInt saveTotalLimit,
        double valSetSize,
        boolean trainOnInputs,
        boolean packing,
        boolean skipBadRows,
        boolean progressBar,
        Export export,
        Reward reward,
        Dpo dpo,
        Ppo ppo,
        Grpo grpo,
        String quantize,
        boolean deterministic,
        boolean gradientCheckpointing,
        boolean fp16,
        String device) {

    public Recipe {
        Objects.requireNonNull(stage, "stage");
        Objects.requireNonNull(baseModel, "baseModel");
        Objects.requireNonNull(outputDir, "outputDir");
        datasets = List.copyOf(datasets);
        Objects.requireNonNull(chatTemplate, "chatTemplate");
        Objects.requireNonNull(adapter, "adapter");
        Objects.requireNonNull(maxSteps, "maxSteps");
        Objects.requireNonNull(lrScheduler, "lrScheduler");
        Objects.requireNonNull(warmupRatio, "warmupRatio");
        Objects.requireNonNull(evalSteps, "evalSteps");
        Objects.requireNonNull(saveSteps, "saveSteps");
        Objects.requireNonNull(saveTotalLimit, "saveTotalLimit");
        Objects.requireNonNull(export, "export");
        Objects.requireNonNull(reward, "reward");
        Objects.requireNonNull(dpo, "dpo");
        Objects.requireNonNull(ppo, "ppo");
        Objects.requireNonNull(grpo, "grpo");
        Objects.requireNonNull(quantize, "quantize");
        Objects.requireNonNull(device, "device");
    }

    /** The training stage a recipe runs. */
    public enum Stage {
        SFT, REWARD, DPO, PPO, GRPO;

        public String yamlName() {
            return name().toLowerCase(Locale.ROOT);
        }
    }

    public enum LrScheduler {
        COSINE, LINEAR, CONSTANT;

        public String yamlName() {
            return name().toLowerCase(Locale.ROOT);
        }
    }

    public enum AdapterType {
        /** LoRA adapters over a frozen base. */
        LORA,
        /** Full fine-tune: no adapter. */
        NONE;

        public String yamlName() {
            return name().toLowerCase(Locale.ROOT);
        }
    }

    /** Dtype of exported weights; written as in safetensors headers. */
    public enum Dtype {
        F32, F16, BF16;

        public String yamlName() {
            return name();
        }
    }

    /** Chat template names: {@code tokenizer} uses tokenizer_config.json's own; the rest are builtin. */
    public static final List<String> CHAT_TEMPLATES = List.of("tokenizer", "llama3", "chatml", "alpaca", "llama2");

    /** Module names LoRA can target; {@code all-linear} expands to all of them. */
    public static final List<String> TARGET_MODULES =
            List.of("q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj");

    /**
     * One {@code datasets} entry. The optional settings override the recipe-wide ones for this
     * data set when present.
     */
    public record Dataset(Path path, String type, Optional<String> chatTemplate, Optional<Boolean> trainOnInputs,
                          Optional<Boolean> skipBadRows) {
        public Dataset {
            Objects.requireNonNull(path, "path");
            Objects.requireNonNull(type, "type");
            Objects.requireNonNull(chatTemplate, "chatTemplate");
            Objects.requireNonNull(trainOnInputs, "trainOnInputs");
            Objects.requireNonNull(skipBadRows, "skipBadRows");
        }

        public Dataset(Path path, String type) {
            this(path, type, Optional.empty(), Optional.empty(), Optional.empty());
        }
    }

    /**
     * {@code adapter}: the LoRA settings ({@code type: none} = full fine-tune; the rest are then unused).
     * {@code targetModules} is never "all-linear": that is expanded to {@link #TARGET_MODULES}.
     */
    public record Adapter(AdapterType type, int r, double alpha, double dropout, List<String> targetModules,
                          boolean useRslora) {
        public Adapter {
            Objects.requireNonNull(type, "type");
            targetModules = List.copyOf(targetModules);
        }

        /** The LoRA scale: {@code alpha / r}, or {@code alpha / sqrt(r)} with rsLoRA. */
        public double scale() {
            return useRslora ? alpha / Math.sqrt(r) : alpha / r;
        }
    }

    /** {@code reward}: the classification head's outputs, TRL's reward centring, and whether data-set margins apply. */
    public record Reward(int numLabels, double centerRewardsCoefficient, boolean useMargin, List<String> labels) {}

    /**
     * {@code dpo}: TRL's DPOConfig names. {@code referenceModel} empty = the base with the adapter
     * switched off (no second copy in memory). {@code referenceLogProbs}: a folder written by
     * {@code loro spark ref-logprobs} to read the reference log-probs from (empty = computed in the stage).
     */
    public record Dpo(double beta, String lossType, double labelSmoothing, OptionalDouble rpoAlpha,
                      Optional<Path> referenceModel, boolean precomputeRefLogProbs, Optional<Path> referenceLogProbs) {}

    /**
     * {@code ppo}: PPO-based RLHF (TRL's PPOTrainer semantics). Rewards come from
     * {@code rewardModel} (a sequence-classification checkpoint) and/or the named Java reward
     * functions, summed; {@code targetKl} set = the adaptive KL controller, else a fixed
     * {@code klCoef}.
     */
    public record Ppo(Optional<Path> rewardModel, List<String> rewardFunctions, OptionalDouble missingEosPenalty,
                      int rolloutBatchSize, int numMiniBatches, int ppoEpochs, int maxNewTokens, double temperature,
                      int topK, double topP, double klCoef, String klEstimator, OptionalDouble targetKl,
                      double klHorizon, double gamma, double lam, double cliprange, double cliprangeValue,
                      double vfCoef, double entCoef, boolean whitenRewards, int sampleEvery,
                      Optional<Path> rewardClassifier, Optional<String> rewardClassifierLabel) {
        public Ppo {
            Objects.requireNonNull(rewardModel, "rewardModel");
            Objects.requireNonNull(rewardClassifier, "rewardClassifier");
            Objects.requireNonNull(rewardClassifierLabel, "rewardClassifierLabel");
            rewardFunctions = List.copyOf(rewardFunctions);
            Objects.requireNonNull(missingEosPenalty, "missingEosPenalty");
            Objects.requireNonNull(klEstimator, "klEstimator");
            Objects.requireNonNull(targetKl, "targetKl");
        }
    }

    /**
     * {@code grpo}: group relative policy optimization with TRL's GRPOConfig names. Rewards as PPO's
     * (a reward model, named functions, a classifier), each multiplied by its {@code rewardWeights}
     * entry (in the order reward model, functions, classifier; empty = all 1) and summed;
     * {@code epsilonHigh} empty = {@code epsilon}; {@code beta} 0 = no reference pass.
     */
    public record Grpo(Optional<Path> rewardModel, List<String> rewardFunctions, List<Double> rewardWeights,
                       Optional<Path> rewardClassifier, Optional<String> rewardClassifierLabel, int numGenerations,
                       int promptsPerStep, int maxNewTokens, double temperature, int topK, double topP, double beta,
                       double epsilon, OptionalDouble epsilonHigh, int numIterations, int stepsPerGeneration,
                       String lossType, String scaleRewards, String importanceSamplingLevel,
                       boolean maskTruncatedCompletions, String advantage, boolean sharePrefix, int sampleEvery) {
        public Grpo {
            Objects.requireNonNull(rewardModel, "rewardModel");
            rewardFunctions = List.copyOf(rewardFunctions);
            rewardWeights = List.copyOf(rewardWeights);
            Objects.requireNonNull(rewardClassifier, "rewardClassifier");
            Objects.requireNonNull(rewardClassifierLabel, "rewardClassifierLabel");
            Objects.requireNonNull(epsilonHigh, "epsilonHigh");
            Objects.requireNonNull(lossType, "lossType");
            Objects.requireNonNull(scaleRewards, "scaleRewards");
            Objects.requireNonNull(importanceSamplingLevel, "importanceSamplingLevel");
            Objects.requireNonNull(advantage, "advantage");
        }

        /** ε_high: the upper clip (DAPO's clip-higher), {@code epsilon} when not set. */
        public double upperEpsilon() {
            return epsilonHigh.orElse(epsilon);
        }
    }

    /** {@code export}: also write a merged checkpoint, and its dtype. */
    public record Export(boolean merged, Dtype dtype) {
        public Export {
            Objects.requireNonNull(dtype, "dtype");
        }
    }

    /** The chat template for one data set: its own, else the recipe's. */
    public String chatTemplateFor(Dataset d) {
        return d.chatTemplate().orElse(chatTemplate);
    }

    public boolean trainOnInputsFor(Dataset d) {
        return d.trainOnInputs().orElse(trainOnInputs);
    }

    public boolean skipBadRowsFor(Dataset d) {
        return d.skipBadRows().orElse(skipBadRows);
    }

    // ---------------------------------------------------------------- YAML out

    /**
     * The fully resolved recipe as YAML (absolute paths, defaults filled, unset optional keys
     * left out). {@link RecipeLoader#load} of this text gives back an equal record.
     */
    public String toYaml() {
        DumperOptions o = new DumperOptions();
        o.setDefaultFlowStyle(DumperOptions.FlowStyle.BLOCK);
        o.setIndent(2);
        o.setIndicatorIndent(2);
        o.setIndentWithIndicator(true);
        o.setWidth(4096);
        o.setSplitLines(false);
        return "# Resolved by loro: the recipe that ran, every default filled in.\n" + new Yaml(o).dump(toMap());
    }

    /** Writes {@link #toYaml()} to {@code output_dir/recipe.yaml} (creating the folder); returns that file. */
    public Path writeResolved() {
        Path file = outputDir.resolve("recipe.yaml");
        try {
            Files.createDirectories(outputDir);
            Path tmp = outputDir.resolve("recipe.yaml.tmp");
            Files.writeString(tmp, toYaml());
            Files.move(tmp, file, java.nio.file.StandardCopyOption.REPLACE_EXISTING,
                    java.nio.file.StandardCopyOption.ATOMIC_MOVE);
        } catch (IOException e) {
            throw new LoroException(file + ": cannot write the resolved recipe (" + e.getMessage() + ")", e);
        }
        return file;
    }

    /** Keys in the order the schema lists them; the inverse of {@link #fromValues}. */
    Map<String, Object> toMap() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("stage", stage.yamlName());
        m.put("base_model", baseModel.toString());
        m.put("output_dir", outputDir.toString());
        m.put("seed", seed);
        m.put("datasets", datasets.stream().map(d -> {
            Map<String, Object> dm = new LinkedHashMap<>();
            dm.put("path", d.path().toString());
            dm.put("type", d.type());
            d.chatTemplate().ifPresent(v -> dm.put("chat_template", v));
            d.trainOnInputs().ifPresent(v -> dm.put("train_on_inputs", v));
            d.skipBadRows().ifPresent(v -> dm.put("skip_bad_rows", v));
            return dm;
        }).toList());
        m.put("chat_template", chatTemplate);
        Map<String, Object> a = new LinkedHashMap<>();
        a.put("type", adapter.type().yamlName());
        a.put("r", adapter.r());
        a.put("alpha", adapter.alpha());
        a.put("dropout", adapter.dropout());
        a.put("target_modules", adapter.targetModules());
        a.put("use_rslora", adapter.useRslora());
        m.put("adapter", a);
        m.put("quantize", quantize);
        m.put("deterministic", deterministic);
        m.put("gradient_checkpointing", gradientCheckpointing);
        m.put("fp16", fp16);
        m.put("device", device);
        m.put("sequence_len", sequenceLen);
        m.put("micro_batch_size", microBatchSize);
        m.put("gradient_accumulation_steps", gradientAccumulationSteps);
        m.put("num_epochs", numEpochs);
        maxSteps.ifPresent(v -> m.put("max_steps", v));
        m.put("learning_rate", learningRate);
        m.put("lr_scheduler", lrScheduler.yamlName());
        if (warmupRatio.isPresent()) {
            m.put("warmup_ratio", warmupRatio.getAsDouble());
        } else {
            m.put("warmup_steps", warmupSteps);
        }
        m.put("weight_decay", weightDecay);
        m.put("adam_beta1", adamBeta1);
        m.put("adam_beta2", adamBeta2);
        m.put("adam_epsilon", adamEpsilon);
        m.put("max_grad_norm", maxGradNorm);
        m.put("logging_steps", loggingSteps);
        evalSteps.ifPresent(v -> m.put("eval_steps", v));
        saveSteps.ifPresent(v -> m.put("save_steps", v));
        saveTotalLimit.ifPresent(v -> m.put("save_total_limit", v));
        m.put("val_set_size", valSetSize);
        m.put("train_on_inputs", trainOnInputs);
        m.put("packing", packing);
        m.put("skip_bad_rows", skipBadRows);
        m.put("progress_bar", progressBar);
        Map<String, Object> e = new LinkedHashMap<>();
        e.put("merged", export.merged());
        e.put("dtype", export.dtype().yamlName());
        m.put("export", e);
        Map<String, Object> rw = new LinkedHashMap<>();
        rw.put("num_labels", reward.numLabels());
        rw.put("center_rewards_coefficient", reward.centerRewardsCoefficient());
        rw.put("use_margin", reward.useMargin());
        if (!reward.labels().isEmpty()) {
            rw.put("labels", reward.labels());
        }
        m.put("reward", rw);
        Map<String, Object> dp = new LinkedHashMap<>();
        dp.put("beta", dpo.beta());
        dp.put("loss_type", dpo.lossType());
        dp.put("label_smoothing", dpo.labelSmoothing());
        dpo.rpoAlpha().ifPresent(v -> dp.put("rpo_alpha", v));
        dpo.referenceModel().ifPresent(p -> dp.put("reference_model", p.toString()));
        dp.put("precompute_ref_log_probs", dpo.precomputeRefLogProbs());
        dpo.referenceLogProbs().ifPresent(p -> dp.put("reference_log_probs", p.toString()));
        m.put("dpo", dp);
        Map<String, Object> pp = new LinkedHashMap<>();
        ppo.rewardModel().ifPresent(p -> pp.put("reward_model", p.toString()));
        pp.put("reward_functions", new java.util.ArrayList<>(ppo.rewardFunctions())); // a fresh list: a shared one would be dumped as a YAML alias
        ppo.missingEosPenalty().ifPresent(v -> pp.put("missing_eos_penalty", v));
        pp.put("rollout_batch_size", ppo.rolloutBatchSize());
        pp.put("num_mini_batches", ppo.numMiniBatches());
        pp.put("ppo_epochs", ppo.ppoEpochs());
        pp.put("max_new_tokens", ppo.maxNewTokens());
        pp.put("temperature", ppo.temperature());
        pp.put("top_k", ppo.topK());
        pp.put("top_p", ppo.topP());
        pp.put("kl_coef", ppo.klCoef());
        pp.put("kl_estimator", ppo.klEstimator());
        ppo.targetKl().ifPresent(v -> pp.put("target_kl", v));
        pp.put("kl_horizon", ppo.klHorizon());
        pp.put("gamma", ppo.gamma());
        pp.put("lam", ppo.lam());
        pp.put("cliprange", ppo.cliprange());
        pp.put("cliprange_value", ppo.cliprangeValue());
        pp.put("vf_coef", ppo.vfCoef());
        pp.put("ent_coef", ppo.entCoef());
        pp.put("whiten_rewards", ppo.whitenRewards());
        pp.put("sample_every", ppo.sampleEvery());
        ppo.rewardClassifier().ifPresent(p -> pp.put("reward_classifier", p.toString()));
        ppo.rewardClassifierLabel().ifPresent(v -> pp.put("reward_classifier_label", v));
        m.put("ppo", pp);
        Map<String, Object> gp = new LinkedHashMap<>();
        grpo.rewardModel().ifPresent(p -> gp.put("reward_model", p.toString()));
        gp.put("reward_functions", new java.util.ArrayList<>(grpo.rewardFunctions()));
        if (!grpo.rewardWeights().isEmpty()) {
            gp.put("reward_weights", grpo.rewardWeights());
        }
        grpo.rewardClassifier().ifPresent(p -> gp.put("reward_classifier", p.toString()));
        grpo.rewardClassifierLabel().ifPresent(v -> gp.put("reward_classifier_label", v));
        gp.put("num_generations", grpo.numGenerations());
        gp.put("prompts_per_step", grpo.promptsPerStep());
        gp.put("max_new_tokens", grpo.maxNewTokens());
        gp.put("temperature", grpo.temperature());
        gp.put("top_k", grpo.topK());
        gp.put("top_p", grpo.topP());
        gp.put("beta", grpo.beta());
        gp.put("epsilon", grpo.epsilon());
        grpo.epsilonHigh().ifPresent(v -> gp.put("epsilon_high", v));
        gp.put("num_iterations", grpo.numIterations());
        gp.put("steps_per_generation", grpo.stepsPerGeneration());
        gp.put("loss_type", grpo.lossType());
        gp.put("scale_rewards", grpo.scaleRewards());
        gp.put("importance_sampling_level", grpo.importanceSamplingLevel());
        gp.put("mask_truncated_completions", grpo.maskTruncatedCompletions());
        gp.put("advantage", grpo.advantage());
        gp.put("share_prefix", grpo.sharePrefix());
        gp.put("sample_every", grpo.sampleEvery());
        m.put("grpo", gp);
        return m;
    }

    /** Builds the record from the values {@link RecipeLoader} read (table keys, defaults filled). */
    @SuppressWarnings("unchecked")
    static Recipe fromValues(Map<String, Object> v) {
        List<Dataset> ds = ((List<Map<String, Object>>) v.get("datasets")).stream().map(d -> new Dataset(
                (Path) d.get("path"), (String) d.get("type"),
                Optional.ofNullable((String) d.get("chat_template")),
                Optional.ofNullable((Boolean) d.get("train_on_inputs")),
                Optional.ofNullable((Boolean) d.get("skip_bad_rows")))).toList();
        Map<String, Object> a = (Map<String, Object>) v.get("adapter");
        Map<String, Object> e = (Map<String, Object>) v.get("export");
        Map<String, Object> rw = (Map<String, Object>) v.get("reward");
        Map<String, Object> dp = (Map<String, Object>) v.get("dpo");
        Map<String, Object> pp = (Map<String, Object>) v.get("ppo");
        Map<String, Object> gp = (Map<String, Object>) v.get("grpo");
        return new Recipe(
                (Stage) v.get("stage"),
                (Path) v.get("base_model"),
                (Path) v.get("output_dir"),
                (Integer) v.get("seed"),
                ds,
                (String) v.get("chat_template"),
                new Adapter((AdapterType) a.get("type"), (Integer) a.get("r"), (Double) a.get("alpha"),
                        (Double) a.get("dropout"), (List<String>) a.get("target_modules"), (Boolean) a.get("use_rslora")),
                (Integer) v.get("sequence_len"),
                (Integer) v.get("micro_batch_size"),
                (Integer) v.get("gradient_accumulation_steps"),
                (Double) v.get("num_epochs"),
                optInt(v.get("max_steps")),
                (Double) v.get("learning_rate"),
                (LrScheduler) v.get("lr_scheduler"),
                (Integer) v.get("warmup_steps"),
                v.get("warmup_ratio") == null ? OptionalDouble.empty() : OptionalDouble.of((Double) v.get("warmup_ratio")),
                (Double) v.get("weight_decay"),
                (Double) v.get("adam_beta1"),
                (Double) v.get("adam_beta2"),
                (Double) v.get("adam_epsilon"),
                (Double) v.get("max_grad_norm"),
                (Integer) v.get("logging_steps"),
                optInt(v.get("eval_steps")),
                optInt(v.get("save_steps")),
                optInt(v.get("save_total_limit")),
                (Double) v.get("val_set_size"),
                (Boolean) v.get("train_on_inputs"),
                (Boolean) v.get("packing"),
                (Boolean) v.get("skip_bad_rows"),
                (Boolean) v.get("progress_bar"),
                new Export((Boolean) e.get("merged"), (Dtype) e.get("dtype")),
                new Reward((Integer) rw.get("num_labels"), (Double) rw.get("center_rewards_coefficient"),
                        (Boolean) rw.get("use_margin"),
                        rw.get("labels") == null ? List.of() : (List<String>) rw.get("labels")),
                new Dpo((Double) dp.get("beta"), (String) dp.get("loss_type"), (Double) dp.get("label_smoothing"),
                        dp.get("rpo_alpha") == null ? OptionalDouble.empty() : OptionalDouble.of((Double) dp.get("rpo_alpha")),
                        Optional.ofNullable((Path) dp.get("reference_model")), (Boolean) dp.get("precompute_ref_log_probs"),
                        Optional.ofNullable((Path) dp.get("reference_log_probs"))),
                new Ppo(Optional.ofNullable((Path) pp.get("reward_model")), (List<String>) pp.get("reward_functions"),
                        optDouble(pp.get("missing_eos_penalty")), (Integer) pp.get("rollout_batch_size"),
                        (Integer) pp.get("num_mini_batches"), (Integer) pp.get("ppo_epochs"),
                        (Integer) pp.get("max_new_tokens"), (Double) pp.get("temperature"), (Integer) pp.get("top_k"),
                        (Double) pp.get("top_p"), (Double) pp.get("kl_coef"), (String) pp.get("kl_estimator"),
                        optDouble(pp.get("target_kl")), (Double) pp.get("kl_horizon"), (Double) pp.get("gamma"),
                        (Double) pp.get("lam"), (Double) pp.get("cliprange"), (Double) pp.get("cliprange_value"),
                        (Double) pp.get("vf_coef"), (Double) pp.get("ent_coef"), (Boolean) pp.get("whiten_rewards"),
                        (Integer) pp.get("sample_every"), Optional.ofNullable((Path) pp.get("reward_classifier")),
                        Optional.ofNullable((String) pp.get("reward_classifier_label"))),
                new Grpo(Optional.ofNullable((Path) gp.get("reward_model")), (List<String>) gp.get("reward_functions"),
                        gp.get("reward_weights") == null ? List.of() : (List<Double>) gp.get("reward_weights"),
                        Optional.ofNullable((Path) gp.get("reward_classifier")),
                        Optional.ofNullable((String) gp.get("reward_classifier_label")), (Integer) gp.get("num_generations"),
                        (Integer) gp.get("prompts_per_step"), (Integer) gp.get("max_new_tokens"),
                        (Double) gp.get("temperature"), (Integer) gp.get("top_k"), (Double) gp.get("top_p"),
                        (Double) gp.get("beta"), (Double) gp.get("epsilon"), optDouble(gp.get("epsilon_high")),
                        (Integer) gp.get("num_iterations"), (Integer) gp.get("steps_per_generation"),
                        (String) gp.get("loss_type"), (String) gp.get("scale_rewards"),
                        (String) gp.get("importance_sampling_level"), (Boolean) gp.get("mask_truncated_completions"),
                        (String) gp.get("advantage"), (Boolean) gp.get("share_prefix"), (Integer) gp.get("sample_every")),
                (String) v.get("quantize"),
                (Boolean) v.get("deterministic"),
                (Boolean) v.get("gradient_checkpointing"),
                (Boolean) v.get("fp16"),
                (String) v.get("device"));
    }

    private static OptionalDouble optDouble(Object o) {
        return o == null ? OptionalDouble.empty() : OptionalDouble.of((Double) o);
    }

    private static OptionalInt optInt(Object o) {
        return o == null ? OptionalInt.empty() : OptionalInt.of((Integer) o);
    }
}
