package ai.loro.core.recipe;

import ai.loro.core.LoroException;
import ai.loro.core.quant.Quantization;
import ai.loro.core.tokenizer.ChatTemplate;
import ai.loro.core.train.RecipeTraining;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
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
 * are {@code Optional*} (empty = not set). Each component marked {@link Key} is the one declaration of a
 * top-level key (its YAML name is the component's in snake_case); the stages' own blocks are in
 * {@link #blocks()} ({@link #block(RecipeBlock)}).
 */
public record Recipe(
        @Key(doc = "the stage to run (the names the loader's RecipeSchema lists)", required = true, is = Key.Is.STAGE)
        String stage,
        @Key(doc = "the HF checkpoint folder, or a Hugging Face Hub id in the local cache", required = true,
                is = Key.Is.MODEL)
        Path baseModel,
        @Key(doc = "where checkpoints, metrics and the resolved recipe go", required = true)
        Path outputDir,
        @Key(doc = "the seed of every random choice", dflt = "42")
        int seed,
        @Key(doc = "the data sets, at least one", required = true, nonEmpty = true,
                list = "a list of data sets (each with path and type)")
        List<Dataset> datasets,
        @Key(doc = "'tokenizer' (the tokenizer's own) or a builtin template", choices = CHAT_TEMPLATE_NAMES,
                dflt = "tokenizer")
        String chatTemplate,
        @Key(doc = "the LoRA settings (type none = full fine-tune)")
        Adapter adapter,
        @Key(doc = "the frozen base's projections held quantized (QLoRA-style)", dflt = "none")
        Quantization.Mode quantize,
        @Key(doc = "libtorch single-threaded, so a resumed run is bit-identical to an uninterrupted one even on a"
                + " busy machine (multi-threaded kernels may split sums differently under load); slower", dflt = "false")
        boolean deterministic,
        @Key(doc = "keep only each decoder layer's input during the forward pass and re-run the layer in the backward"
                + " pass (transformers' name)", dflt = "false")
        boolean gradientCheckpointing,
        @Key(doc = "mixed precision (transformers' name): the models in fp16, fp32 master weights and moments for the"
                + " trainable parameters, dynamic loss scaling", dflt = "false")
        boolean fp16,
        @Key(doc = "where the models live; auto = the first GPU DJL's engine sees, else the CPU; gpu without a visible"
                + " GPU is an error", choices = RecipeTraining.DEVICES, dflt = "auto")
        String device,
        @Key(doc = "the longest token sequence", is = Key.Is.POSITIVE, dflt = "512")
        int sequenceLen,
        @Key(doc = "rows per forward pass", is = Key.Is.POSITIVE, dflt = "4")
        int microBatchSize,
        @Key(doc = "micro-batches per optimizer step", is = Key.Is.POSITIVE, dflt = "1")
        int gradientAccumulationSteps,
        @Key(doc = "passes over the training data", is = Key.Is.POSITIVE, dflt = "1")
        double numEpochs,
        @Key(doc = "when set, overrides num_epochs", is = Key.Is.POSITIVE)
        OptionalInt maxSteps,
        @Key(doc = "the peak learning rate", is = Key.Is.POSITIVE, dflt = "2e-4")
        double learningRate,
        @Key(doc = "the learning-rate schedule after warm-up", dflt = "cosine")
        ai.loro.core.train.Schedule.Kind lrScheduler,
        @Key(doc = "warm-up optimizer steps; ignored when warmup_ratio is set", is = Key.Is.NON_NEGATIVE, dflt = "0")
        int warmupSteps,
        @Key(doc = "warm-up as a fraction of total steps, exclusive with warmup_steps", is = Key.Is.UNIT_OPEN,
                excludes = "warmup_steps")
        OptionalDouble warmupRatio,
        @Key(doc = "AdamW's decoupled weight decay", is = Key.Is.NON_NEGATIVE, dflt = "0.0")
        double weightDecay,
        @Key(doc = "AdamW's beta1", is = Key.Is.UNIT_OPEN, dflt = "0.9")
        double adamBeta1,
        @Key(doc = "AdamW's beta2", is = Key.Is.UNIT_OPEN, dflt = "0.999")
        double adamBeta2,
        @Key(doc = "AdamW's epsilon", is = Key.Is.POSITIVE, dflt = "1e-8")
        double adamEpsilon,
        @Key(doc = "gradient clipping norm (0 = no clipping)", is = Key.Is.NON_NEGATIVE, dflt = "1.0")
        double maxGradNorm,
        @Key(doc = "optimizer steps between metrics lines", is = Key.Is.POSITIVE, dflt = "10")
        int loggingSteps,
        @Key(doc = "optimizer steps between evaluations", is = Key.Is.POSITIVE)
        OptionalInt evalSteps,
        @Key(doc = "optimizer steps between checkpoints", is = Key.Is.POSITIVE)
        OptionalInt saveSteps,
        @Key(doc = "checkpoints kept (the oldest are deleted)", is = Key.Is.POSITIVE)
        OptionalInt saveTotalLimit,
        @Key(doc = "held-out rows: 0, a fraction in (0, 1) or a whole count >= 1", is = Key.Is.FRACTION_OR_COUNT,
                dflt = "0.0")
        double valSetSize,
        @Key(doc = "train on the prompt tokens too", dflt = "false")
        boolean trainOnInputs,
        @Key(doc = "pack several rows into one sequence", dflt = "false")
        boolean packing,
        @Key(doc = "skip rows that do not parse instead of failing", dflt = "false")
        boolean skipBadRows,
        @Key(doc = "show a progress bar", dflt = "true")
        boolean progressBar,
        @Key(doc = "what is written at the end of training")
        Export export,
        /* not a key: the stages' blocks, one per RecipeSchema block */
        Blocks blocks) {

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
        Objects.requireNonNull(blocks, "blocks");
        Objects.requireNonNull(quantize, "quantize");
        Objects.requireNonNull(device, "device");
    }

    /** A stage's own block ({@code dpo:}, {@code ppo:}, ...), defaults filled when the recipe has none. */
    public <T extends Record> T block(RecipeBlock<T> block) {
        return blocks.get(block);
    }

    public enum AdapterType implements RecipeEnum {
        /** LoRA adapters over a frozen base. */
        LORA,
        /** Full fine-tune: no adapter. */
        NONE
    }

    /** Dtype of exported weights; written as in safetensors headers. */
    public enum Dtype implements RecipeEnum {
        F32, F16, BF16;

        @Override
        public String yamlName() {
            return name();
        }
    }

    /** The builtin chat template names and {@code tokenizer}, as the {@code chat_template} keys allow them. */
    static final String CHAT_TEMPLATE_NAMES = "tokenizer|" + ChatTemplate.BUILTIN_NAMES;

    /** Chat template names: {@code tokenizer} uses tokenizer_config.json's own; the rest are builtin. */
    public static final List<String> CHAT_TEMPLATES = List.of(CHAT_TEMPLATE_NAMES.split("\\|"));

    /** Module names LoRA can target; {@code all-linear} expands to all of them. */
    public static final List<String> TARGET_MODULES =
            List.of("q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj");

    /**
     * One {@code datasets} entry. The optional settings override the recipe-wide ones for this
     * data set when present.
     */
    public record Dataset(
            @Key(doc = "the data file", required = true) Path path,
            @Key(doc = "its format", required = true, is = Key.Is.DATASET_TYPE) String type,
            @Key(doc = "this data set's chat template", choices = CHAT_TEMPLATE_NAMES) Optional<String> chatTemplate,
            @Key(doc = "this data set's train_on_inputs") Optional<Boolean> trainOnInputs,
            @Key(doc = "this data set's skip_bad_rows") Optional<Boolean> skipBadRows) {
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
    public record Adapter(
            @Key(doc = "lora, or none for a full fine-tune", dflt = "lora") AdapterType type,
            @Key(doc = "the LoRA rank", is = Key.Is.POSITIVE, dflt = "8") int r,
            @Key(doc = "the LoRA alpha", is = Key.Is.POSITIVE, dflt = "16.0") double alpha,
            @Key(doc = "dropout on the adapter's input", is = Key.Is.UNIT_OPEN, dflt = "0.05") double dropout,
            @Key(doc = "the projections that get adapters, or all-linear", is = Key.Is.TARGET_MODULES,
                    dflt = "[q_proj, k_proj, v_proj, o_proj]") List<String> targetModules,
            @Key(doc = "rsLoRA's scale alpha / sqrt(r)", dflt = "false") boolean useRslora) {
        public Adapter {
            Objects.requireNonNull(type, "type");
            targetModules = List.copyOf(targetModules);
        }

        /** The LoRA scale: {@code alpha / r}, or {@code alpha / sqrt(r)} with rsLoRA. */
        public double scale() {
            return useRslora ? alpha / Math.sqrt(r) : alpha / r;
        }
    }

    /** {@code export}: also write a merged checkpoint, and its dtype. */
    public record Export(
            @Key(doc = "also write a merged checkpoint", dflt = "false") boolean merged,
            @Key(doc = "the merged checkpoint's dtype", dflt = "F32") Dtype dtype) {
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

    /** Keys in declaration order, then the stage blocks; the inverse of {@link RecipeSchema#build}. */
    Map<String, Object> toMap() {
        Map<String, Object> m = RecordBlock.write(this);
        blocks.byName().forEach((name, values) -> m.put(name, RecordBlock.write(values)));
        return m;
    }
}
