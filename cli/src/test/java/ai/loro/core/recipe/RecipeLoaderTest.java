package ai.loro.core.recipe;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.loro.core.recipe.Recipe.AdapterType;
import ai.loro.core.recipe.Recipe.Dtype;
import ai.loro.core.train.Schedule.Kind;
import ai.loro.cli.Stages;
import ai.loro.dpo.DpoConfig;
import ai.loro.dpo.DpoLoss;
import ai.loro.rlhf.KlPenalty;
import ai.loro.rlhf.PpoConfig;
import ai.loro.core.LoroException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.OptionalDouble;
import java.util.OptionalInt;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The loader with every stage and block the CLI registers ({@link Stages#SCHEMA}); it lives in the cli module
 * because core knows no stage blocks.
 */
class RecipeLoaderTest {
    static final RecipeSchema SCHEMA = Stages.SCHEMA;

    @TempDir Path tmp;

    /** MINIMAL's base_model: it exists, so it is a path (a missing org/name would be looked up as a Hub id). */
    @org.junit.jupiter.api.BeforeEach
    void baseModelFolder() throws IOException {
        Files.createDirectories(tmp.resolve("models/tiny"));
    }

    /** Line numbers below refer to this text: stage is line 1, the dataset type line 6. */
    static final String MINIMAL = """
            stage: sft
            base_model: models/tiny
            output_dir: runs/a
            datasets:
              - path: data/train.jsonl
                type: alpaca
            """;

    Path write(String name, String text) throws IOException {
        Path p = tmp.resolve(name);
        Files.createDirectories(p.getParent());
        Files.writeString(p, text);
        return p;
    }

    Recipe load(String text, String... sets) throws IOException {
        return RecipeLoader.load(write("recipe.yaml", text), List.of(sets), SCHEMA);
    }

    /** Asserts loading fails with exactly {@code expected}, where {@code F} stands for the file. */
    void fails(String text, String expected, String... sets) throws IOException {
        Path p = write("recipe.yaml", text);
        LoroException e = assertThrows(LoroException.class, () -> RecipeLoader.load(p, List.of(sets), SCHEMA));
        assertEquals(expected.replace("F:", p + ":"), e.getMessage());
        assertFalse(e.getMessage().contains("\n"), "one line");
    }

    @Test
    void minimalRecipeGetsEveryDefault() throws IOException {
        Recipe r = load(MINIMAL);
        assertEquals("sft", r.stage());
        assertEquals(tmp.resolve("models/tiny"), r.baseModel());
        assertEquals(tmp.resolve("runs/a"), r.outputDir());
        assertEquals(42, r.seed());
        assertEquals(List.of(new Recipe.Dataset(tmp.resolve("data/train.jsonl"), "alpaca")), r.datasets());
        assertEquals("tokenizer", r.chatTemplate());
        assertEquals(new Recipe.Adapter(AdapterType.LORA, 8, 16.0, 0.05, List.of("q_proj", "k_proj", "v_proj", "o_proj"),
                false), r.adapter());
        assertEquals(2.0, r.adapter().scale());
        assertEquals(512, r.sequenceLen());
        assertEquals(4, r.microBatchSize());
        assertEquals(1, r.gradientAccumulationSteps());
        assertEquals(1.0, r.numEpochs());
        assertEquals(OptionalInt.empty(), r.maxSteps());
        assertEquals(2e-4, r.learningRate());
        assertEquals(Kind.COSINE, r.lrScheduler());
        assertEquals(0, r.warmupSteps());
        assertEquals(OptionalDouble.empty(), r.warmupRatio());
        assertEquals(0.0, r.weightDecay());
        assertEquals(0.9, r.adamBeta1());
        assertEquals(0.999, r.adamBeta2());
        assertEquals(1e-8, r.adamEpsilon());
        assertEquals(1.0, r.maxGradNorm());
        assertEquals(10, r.loggingSteps());
        assertEquals(OptionalInt.empty(), r.evalSteps());
        assertEquals(OptionalInt.empty(), r.saveSteps());
        assertEquals(OptionalInt.empty(), r.saveTotalLimit());
        assertEquals(0.0, r.valSetSize());
        assertFalse(r.trainOnInputs());
        assertFalse(r.packing());
        assertFalse(r.skipBadRows());
        assertTrue(r.progressBar());
        assertEquals(new Recipe.Export(false, Dtype.F32), r.export());
    }

    static final String FULL = """
            # a full recipe
            stage: dpo
            base_model: ../models/tiny
            output_dir: /abs/runs/full
            seed: 7
            datasets:
              - path: data/a.jsonl
                type: preference
                chat_template: chatml
                train_on_inputs: true
                skip_bad_rows: yes
              - {path: data/b.csv, type: HH-RLHF}
            chat_template: llama3
            adapter:
              type: lora
              r: 16
              alpha: 32
              dropout: 0.1
              target_modules: all-linear
              use_rslora: true
            sequence_len: 1_024
            micro_batch_size: 2
            gradient_accumulation_steps: 8
            num_epochs: 2.5
            max_steps: 100
            learning_rate: 1e-4
            lr_scheduler: linear
            warmup_ratio: 0.1
            weight_decay: 0.01
            adam_beta1: 0.8
            adam_beta2: 0.95
            adam_epsilon: 1.0e-6
            max_grad_norm: 0
            logging_steps: 1
            eval_steps: 20
            save_steps: 50
            save_total_limit: 3
            val_set_size: 0.05
            train_on_inputs: true
            packing: true
            skip_bad_rows: false
            progress_bar: false
            export:
              merged: true
              dtype: bf16
            """;

    @Test
    void fullRecipeParses() throws IOException {
        Recipe r = load(FULL);
        assertEquals("dpo", r.stage());
        assertEquals(tmp.getParent().resolve("models/tiny"), r.baseModel());
        assertEquals(Path.of("/abs/runs/full"), r.outputDir());
        assertEquals(7, r.seed());
        assertEquals(new Recipe.Dataset(tmp.resolve("data/a.jsonl"), "preference", Optional.of("chatml"),
                Optional.of(true), Optional.of(true)), r.datasets().get(0));
        assertEquals(new Recipe.Dataset(tmp.resolve("data/b.csv"), "hh-rlhf"), r.datasets().get(1));
        assertEquals("chatml", r.chatTemplateFor(r.datasets().get(0)));
        assertEquals("llama3", r.chatTemplateFor(r.datasets().get(1)));
        assertTrue(r.trainOnInputsFor(r.datasets().get(1)));
        assertEquals(new Recipe.Adapter(AdapterType.LORA, 16, 32.0, 0.1, Recipe.TARGET_MODULES, true), r.adapter());
        assertEquals(8.0, r.adapter().scale(), 1e-12);
        assertEquals(1024, r.sequenceLen());
        assertEquals(2.5, r.numEpochs());
        assertEquals(OptionalInt.of(100), r.maxSteps());
        assertEquals(1e-4, r.learningRate());
        assertEquals(Kind.LINEAR, r.lrScheduler());
        assertEquals(OptionalDouble.of(0.1), r.warmupRatio());
        assertEquals(1e-6, r.adamEpsilon());
        assertEquals(0.0, r.maxGradNorm());
        assertEquals(OptionalInt.of(20), r.evalSteps());
        assertEquals(OptionalInt.of(3), r.saveTotalLimit());
        assertEquals(0.05, r.valSetSize());
        assertTrue(r.packing());
        assertFalse(r.progressBar());
        assertEquals(new Recipe.Export(true, Dtype.BF16), r.export());
    }

    @Test
    void toYamlRoundTrips() throws IOException {
        for (String text : List.of(MINIMAL, FULL, MINIMAL + "warmup_steps: 5\nadapter: {type: none}\nmax_steps: 3\n")) {
            Recipe r = load(text);
            Path saved = write("elsewhere/recipe.yaml", r.toYaml());
            Recipe back = RecipeLoader.load(saved, List.of(), SCHEMA);
            assertEquals(r, back, r.toYaml());
            assertEquals(r.toYaml(), back.toYaml());
        }
        Recipe r = load(MINIMAL);
        Path written = r.writeResolved();
        assertEquals(tmp.resolve("runs/a/recipe.yaml"), written);
        assertEquals(r, RecipeLoader.load(written, List.of(), SCHEMA));
        String yaml = r.toYaml();
        assertTrue(yaml.contains("base_model: " + tmp.resolve("models/tiny")), yaml);
        assertTrue(yaml.contains("learning_rate: "), yaml);
        assertFalse(yaml.contains("max_steps"), "unset optional keys are left out");
    }

    @Test
    void baseModelAsAHubIdResolvesInTheCacheAfterTheRecipeFolder() throws IOException {
        Path repo = ai.loro.core.io.HubCacheTest.fakeCache(tmp.resolve("hub"));
        java.util.Map<String, String> env = java.util.Map.of("HF_HUB_CACHE", tmp.resolve("hub").toString());
        String text = MINIMAL.replace("models/tiny", "meta-llama/Llama-3.2-1B")
                + "dpo:\n  reference_model: meta-llama/Llama-3.2-1B@" + ai.loro.core.io.HubCacheTest.MAIN + "\n";
        Recipe r = RecipeLoader.parse(text.replace("stage: sft", "stage: dpo"), "F", tmp, List.of(),
                SCHEMA, env::get);
        Path snapshot = repo.resolve("snapshots").resolve(ai.loro.core.io.HubCacheTest.MAIN);
        assertEquals(snapshot, r.baseModel());
        assertEquals(Optional.of(snapshot), r.block(DpoConfig.BLOCK).referenceModel());

        // A folder of that name next to the recipe comes first.
        Path local = Files.createDirectories(tmp.resolve("meta-llama/Llama-3.2-1B"));
        assertEquals(local, RecipeLoader.parse(text, "F", tmp, List.of(), SCHEMA, env::get).baseModel());

        LoroException e = assertThrows(LoroException.class, () -> RecipeLoader.parse(MINIMAL, "F", tmp,
                List.of("base_model=Qwen/Qwen3-0.6B"), SCHEMA, env::get));
        assertEquals("--set base_model: 'base_model': Qwen/Qwen3-0.6B is not a folder and not in the Hugging Face cache"
                + " (tried " + tmp.resolve("Qwen/Qwen3-0.6B") + ", " + tmp.resolve("hub/models--Qwen--Qwen3-0.6B")
                + "; cache root from HF_HUB_CACHE); download it with: huggingface-cli download Qwen/Qwen3-0.6B"
                + " (Loro downloads nothing itself)", e.getMessage());
        e = assertThrows(LoroException.class, () -> RecipeLoader.parse(MINIMAL.replace("models/tiny", "Qwen/Qwen3-0.6B"),
                "F", tmp, List.of(), SCHEMA, env::get));
        assertTrue(e.getMessage().startsWith("F:2: 'base_model': Qwen/Qwen3-0.6B is not a folder"), e.getMessage());
    }

    @Test
    void relativePathsResolveAgainstTheRecipeFolder() throws IOException {
        Path p = write("recipes/sub/r.yaml", """
                stage: sft
                base_model: ./m
                output_dir: ../../runs/x
                datasets:
                  - path: ../d.jsonl
                    type: messages
                """);
        Recipe r = RecipeLoader.load(p, List.of("datasets.0.path=e.jsonl"), SCHEMA);
        assertEquals(tmp.resolve("recipes/sub/m"), r.baseModel());
        assertEquals(tmp.resolve("runs/x"), r.outputDir());
        assertEquals(tmp.resolve("recipes/sub/e.jsonl"), r.datasets().get(0).path());
        Recipe r2 = RecipeLoader.load(p, List.of("base_model=~/hf/m"), SCHEMA);
        assertEquals(Path.of(System.getProperty("user.home"), "hf/m"), r2.baseModel());
    }

    @Test
    void setOverrides() throws IOException {
        Recipe r = load(MINIMAL, "adapter.r=16", "learning_rate=1e-4", "datasets.0.path=x.jsonl",
                "datasets[0].type=sharegpt", "datasets.1.path=y.jsonl", "datasets.1.type=completion",
                "adapter.target_modules=[q_proj, v_proj]", "export.dtype=F16", "max_steps=5", "max_steps=6",
                "packing=true", "stage=reward");
        assertEquals(16, r.adapter().r());
        assertEquals(1e-4, r.learningRate());
        assertEquals(List.of(new Recipe.Dataset(tmp.resolve("x.jsonl"), "sharegpt"),
                new Recipe.Dataset(tmp.resolve("y.jsonl"), "completion")), r.datasets());
        assertEquals(List.of("q_proj", "v_proj"), r.adapter().targetModules());
        assertEquals(Dtype.F16, r.export().dtype());
        assertEquals(OptionalInt.of(6), r.maxSteps(), "later --set wins");
        assertTrue(r.packing());
        assertEquals("reward", r.stage());
        assertEquals(OptionalInt.empty(), load(MINIMAL + "max_steps: 9\n", "max_steps=").maxSteps(),
                "an empty value unsets");
    }

    @Test
    void setErrors() throws IOException {
        fails(MINIMAL, "--set adapter.r: 'adapter.r' must be a positive integer, got 'abc'", "adapter.r=abc");
        fails(MINIMAL, "--set adapter.rr: unknown key 'rr' in 'adapter' (allowed: alpha, dropout, r, target_modules,"
                + " type, use_rslora; did you mean 'r'?)", "adapter.rr=4");
        fails(MINIMAL, "--set lerning_rate: unknown key 'lerning_rate' in the top level (allowed: adam_beta1, adam_beta2,"
                + " adam_epsilon, adapter, base_model, chat_template, datasets, deterministic, device, dpo, eval_steps, export,"
                + " fp16, gradient_accumulation_steps, gradient_checkpointing, grpo, learning_rate, logging_steps, lr_scheduler, max_grad_norm, max_steps,"
                + " micro_batch_size, num_epochs, output_dir, packing, ppo, progress_bar, quantize, reward, save_steps, save_total_limit, seed,"
                + " sequence_len, skip_bad_rows, stage, train_on_inputs, val_set_size, warmup_ratio, warmup_steps,"
                + " weight_decay; did you mean 'learning_rate'?)", "lerning_rate=1");
        fails(MINIMAL, "--set datasets.3.path: index 3 is out of range ('datasets' has 1 entries; use 1 to add one)",
                "datasets.3.path=x");
        fails(MINIMAL, "--set datasets.path: 'datasets' is a list; name an entry by its index (e.g. datasets.0.path)",
                "datasets.path=x");
        fails(MINIMAL, "--set seed.x: 'seed' is a single value ('42'), so it has no 'x'", "seed=42", "seed.x=1");
        fails(MINIMAL, "--set adapter.r: expected key=value (e.g. --set adapter.r=16)", "adapter.r");
        fails(MINIMAL, "--set datasets.1: missing required key 'type' in 'datasets.1' (required: path, type)",
                "datasets.1={path: b.jsonl}");
        fails(MINIMAL, "--set warmup_ratio: 'warmup_steps' and 'warmup_ratio' are mutually exclusive (set one of them)",
                "warmup_steps=3", "warmup_ratio=0.1");
    }

    @Test
    void unknownKeyNamesLineAndSuggests() throws IOException {
        fails(MINIMAL + "lerning_rate: 1e-4\n", "F:7: unknown key 'lerning_rate' in the top level (allowed: adam_beta1,"
                + " adam_beta2, adam_epsilon, adapter, base_model, chat_template, datasets, deterministic, device, dpo, eval_steps, export,"
                + " fp16, gradient_accumulation_steps, gradient_checkpointing, grpo, learning_rate, logging_steps, lr_scheduler, max_grad_norm, max_steps,"
                + " micro_batch_size, num_epochs, output_dir, packing, ppo, progress_bar, quantize, reward, save_steps, save_total_limit, seed,"
                + " sequence_len, skip_bad_rows, stage, train_on_inputs, val_set_size, warmup_ratio, warmup_steps,"
                + " weight_decay; did you mean 'learning_rate'?)");
        fails(MINIMAL + "adapter:\n  r: 4\n  lora_alpha: 8\n", "F:9: unknown key 'lora_alpha' in 'adapter' (allowed:"
                + " alpha, dropout, r, target_modules, type, use_rslora)");
        fails(MINIMAL + "    chat_templat: chatml\n", "F:7: unknown key 'chat_templat' in 'datasets.0' (allowed:"
                + " chat_template, path, skip_bad_rows, train_on_inputs, type; did you mean 'chat_template'?)");
        assertTrue(assertThrows(LoroException.class, () -> load(MINIMAL + "dpo:\n  betta: 0.1\n")).getMessage()
                .startsWith(tmp.resolve("recipe.yaml") + ":8: unknown key 'betta' in 'dpo'"));
    }

    @Test
    void wrongTypesNameLineKeyAndWhatIsAllowed() throws IOException {
        fails(MINIMAL + "micro_batch_size: four\n", "F:7: 'micro_batch_size' must be a positive integer, got 'four'");
        fails(MINIMAL + "micro_batch_size: 0\n", "F:7: 'micro_batch_size' must be a positive integer, got '0'");
        fails(MINIMAL + "micro_batch_size: 2.5\n", "F:7: 'micro_batch_size' must be a positive integer, got '2.5'");
        fails(MINIMAL + "learning_rate: [1]\n", "F:7: 'learning_rate' must be a number > 0, got a list");
        fails(MINIMAL + "packing: maybe\n", "F:7: 'packing' must be true or false, got 'maybe'");
        fails(MINIMAL + "adapter:\n  dropout: 1.0\n", "F:8: 'adapter.dropout' must be a number in [0, 1), got '1.0'");
        fails(MINIMAL + "adapter: lora\n", "F:7: 'adapter' must be a block of keys (alpha, dropout, r, target_modules,"
                + " type, use_rslora), got 'lora'");
        fails(MINIMAL + "val_set_size: 2.5\n", "F:7: 'val_set_size' must be 0, a fraction in (0, 1) or a whole count"
                + " >= 1, got '2.5'");
        fails(MINIMAL + "adapter:\n  target_modules: [q_proj, qk_proj]\n", "F:8: 'adapter.target_modules.1' must be"
                + " one of q_proj|k_proj|v_proj|o_proj|gate_proj|up_proj|down_proj, got 'qk_proj' (did you mean 'q_proj'?)");
        fails(MINIMAL + "adapter:\n  target_modules: [q_proj, q_proj]\n", "F:8: 'adapter.target_modules' lists"
                + " 'q_proj' twice");
        fails(MINIMAL + "warmup_steps: 3\nwarmup_ratio: 0.1\n", "F:8: 'warmup_steps' and 'warmup_ratio' are mutually"
                + " exclusive (set one of them)");
        fails(MINIMAL.replace("datasets:\n  - path: data/train.jsonl\n    type: alpaca\n", "datasets: []\n"),
                "F:4: 'datasets' must be a list of data sets (each with path and type) (at least one), got a list");
    }

    @Test
    void enumValues() throws IOException {
        fails(MINIMAL + "lr_scheduler: cosin\n", "F:7: 'lr_scheduler' must be one of cosine|linear|constant, got"
                + " 'cosin' (did you mean 'cosine'?)");
        fails(MINIMAL + "adapter:\n  type: qlora\n", "F:8: 'adapter.type' must be one of lora|none, got 'qlora'"
                + " (did you mean 'lora'?)");
        fails(MINIMAL.replace("stage: sft", "stage: rlhf"), "F:1: 'stage' must be one of sft|reward|dpo|ppo|grpo, got 'rlhf'");
        fails(MINIMAL.replace("type: alpaca", "type: alpacca"), "F:6: 'datasets.0.type' must be one of alpaca|openorca|"
                + "sharegpt|messages|completion|preference|hh-rlhf|oasst|math-step-dpo|ultrafeedback|classification|prompt, got 'alpacca'"
                + " (did you mean 'alpaca'?)");
        fails(MINIMAL + "chat_template: jinja\n", "F:7: 'chat_template' must be one of tokenizer|llama3|chatml|alpaca|"
                + "llama2, got 'jinja'");
        fails(MINIMAL + "export:\n  dtype: fp16\n", "F:8: 'export.dtype' must be one of F32|F16|BF16, got 'fp16'"
                + " (did you mean 'F16'?)");
        Path p = write("recipe.yaml", MINIMAL.replace("alpaca", "mine"));
        assertEquals("mine", RecipeLoader.load(p, List.of(), SCHEMA.withDatasetTypes(List.of("mine", "other"))).datasets().get(0).type());
    }

    /** The allowed values of an enum key are the implementing enum's constants, in its order. */
    static String allowed(RecipeEnum[] constants) {
        return java.util.Arrays.stream(constants).map(RecipeEnum::yamlName).collect(java.util.stream.Collectors.joining("|"));
    }

    @Test
    void enumerationsComeFromTheImplementingCode() throws IOException {
        String ppo = MINIMAL.replace("stage: sft", "stage: ppo").replace("type: alpaca", "type: prompt");
        assertEquals(KlPenalty.Estimator.K2, load(ppo + "ppo:\n  kl_estimator: k2\n").block(PpoConfig.BLOCK).klEstimator());
        assertEquals(KlPenalty.Estimator.K2, load(ppo, "ppo.kl_estimator=K2").block(PpoConfig.BLOCK).klEstimator());
        assertEquals("k1|k2|k3", allowed(KlPenalty.Estimator.values()));
        fails(ppo + "ppo:\n  kl_estimator: k4\n", "F:8: 'ppo.kl_estimator' must be one of "
                + allowed(KlPenalty.Estimator.values()) + ", got 'k4' (did you mean 'k1'?)");
        assertEquals("sigmoid|hinge|ipo|robust", allowed(DpoLoss.Type.values()));
        fails(MINIMAL + "dpo:\n  loss_type: kto_pair\n", "F:8: 'dpo.loss_type' must be one of "
                + allowed(DpoLoss.Type.values()) + ", got 'kto_pair'");
        assertEquals(DpoLoss.Type.IPO, load(MINIMAL, "dpo.loss_type=ipo").block(DpoConfig.BLOCK).lossType());
    }

    @Test
    void dpoReferenceLogProbsIsAnOptionalPathLeftOutWhenAbsent() throws IOException {
        String dpo = MINIMAL.replace("stage: sft", "stage: dpo").replace("type: alpaca", "type: preference");
        Recipe absent = load(dpo);
        assertEquals(Optional.empty(), absent.block(DpoConfig.BLOCK).referenceLogProbs());
        assertFalse(absent.toYaml().contains("reference_log_probs"), absent.toYaml());
        Recipe set = load(dpo + "dpo:\n  reference_log_probs: refs/lp\n");
        assertEquals(Optional.of(tmp.resolve("refs/lp")), set.block(DpoConfig.BLOCK).referenceLogProbs());
        assertTrue(set.toYaml().contains("  reference_log_probs: " + tmp.resolve("refs/lp") + "\n"), set.toYaml());
        assertEquals(set, RecipeLoader.load(write("again/recipe.yaml", set.toYaml()), List.of(), SCHEMA));
        fails(dpo + "dpo:\n  reference_log_probs: ''\n", "F:8: 'dpo.reference_log_probs' must be a non-empty path, got ''");
    }

    @Test
    void missingRequiredKeys() throws IOException {
        fails(MINIMAL.replace("base_model: models/tiny\n", ""), "F:1: missing required key 'base_model' in the top"
                + " level (required: stage, base_model, output_dir, datasets)");
        fails(MINIMAL.replace("    type: alpaca\n", ""), "F:5: missing required key 'type' in 'datasets.0' (required:"
                + " path, type)");
        fails(MINIMAL.replace("stage: sft", "stage:"), "F:1: required key 'stage' has no value");
        fails(MINIMAL, "--set base_model: required key 'base_model' has no value", "base_model=");
        fails("", "F:1: missing required key 'stage' in the top level (required: stage, base_model, output_dir,"
                + " datasets)");
    }

    @Test
    void malformedYamlNamesLineAndReason() throws IOException {
        Path p = write("recipe.yaml", "stage: sft\nbase_model: m\noutput_dir: [a, b\nseed: 1\n");
        LoroException e = assertThrows(LoroException.class, () -> RecipeLoader.load(p, List.of(), SCHEMA));
        assertTrue(e.getMessage().startsWith(p + ":4: malformed YAML: "), e.getMessage());
        Path q = write("recipe.yaml", "stage: sft\n  base_model: m\n");
        e = assertThrows(LoroException.class, () -> RecipeLoader.load(q, List.of(), SCHEMA));
        assertTrue(e.getMessage().startsWith(q + ":2: malformed YAML: mapping values are not allowed here"),
                e.getMessage());
        fails(MINIMAL + "seed: 1\nseed: 2\n", "F:8: duplicate key 'seed' (first at F:7)");
        fails("- stage: sft\n", "F:1: a recipe is a block of keys (stage, base_model, output_dir, datasets, ...), got a"
                + " list");
        fails(MINIMAL, "--set seed: malformed YAML value '[1': expected ',' or ']', but got <stream end>"
                + " (while parsing a flow sequence)", "seed=[1");
        Path tab = write("recipe.yaml", MINIMAL + "adapter:\n\tr: 4\n");
        e = assertThrows(LoroException.class, () -> RecipeLoader.load(tab, List.of(), SCHEMA));
        assertTrue(e.getMessage().startsWith(tab + ":8: malformed YAML: "), e.getMessage());
        Path two = write("recipe.yaml", MINIMAL + "---\nseed: 1\n");
        e = assertThrows(LoroException.class, () -> RecipeLoader.load(two, List.of(), SCHEMA));
        assertTrue(e.getMessage().startsWith(two + ":7: malformed YAML: "), e.getMessage());
        LoroException missing = assertThrows(LoroException.class,
                () -> RecipeLoader.load(tmp.resolve("nope.yaml"), List.of(), SCHEMA));
        assertEquals(tmp.resolve("nope.yaml") + ": no such recipe file", missing.getMessage());
    }

    @Test
    void pipelinesAreRefused() throws IOException {
        fails("stages:\n  - sft.yaml\n", "F:1: pipelines are not supported yet ('stages' lists several stages; write one"
                + " recipe per stage and run each with 'loro train')");
    }

    @Test
    void suggestions() {
        assertEquals("learning_rate", Schema.closest("lerning_rate", List.of("learning_rate", "seed")));
        assertEquals("micro_batch_size", Schema.closest("micro-batch-size", List.of("micro_batch_size")));
        assertEquals("seed", Schema.closest("sede", List.of("seed", "stage")));
        assertEquals(null, Schema.closest("banana", List.of("seed", "stage")));
    }
}
