package ai.loro.cli;

import ai.loro.core.io.AtomicFiles;
import ai.djl.Device;
import ai.djl.ndarray.types.DataType;
import ai.loro.cli.quickstart.Evaluation;
import ai.loro.cli.quickstart.QuickstartReport;
import ai.loro.cli.quickstart.ShiftWorld;
import ai.loro.core.LoroException;
import ai.loro.core.model.LlamaConfig;
import ai.loro.core.model.LlamaModel;
import ai.loro.core.model.ModelWriter;
import ai.loro.core.recipe.Pipeline;
import ai.loro.core.tokenizer.LoroTokenizer;
import ai.loro.core.tokenizer.TinyTokenizers;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code loro quickstart}: the main job on an embedded default. Generates a task world with
 * checkable answers ({@link ShiftWorld}), makes a byte-level tokenizer and a random tiny Llama,
 * runs the quickstart pipeline (pretrain from scratch → SFT on sloppy demonstrations → reward model
 * → PPO, and DPO), then measures every stage on held-out words and writes a table, results.json and
 * an HTML report with the loss and reward curves. Nothing is downloaded.
 */
@Command(name = "quickstart", mixinStandardHelpOptions = true,
        description = {"Train a tiny model from scratch on a generated task world, then SFT, a reward model, PPO, DPO and GRPO;"
                + " print held-out accuracy and KL per stage and write an HTML report (about 10 minutes on 2 cores).",
            "The run folder is rebuilt from scratch each time."})
final class QuickstartCommand implements Callable<Integer> {
    /** The pipeline's recipe files, shipped in the jar from recipes/quickstart. */
    static final List<String> RECIPES = List.of("pipeline.yaml", "pretrain.yaml", "sft.yaml", "reward.yaml", "ppo.yaml", "dpo.yaml", "grpo.yaml");
    static final List<String> STAGES = List.of("pretrain", "sft", "reward", "ppo", "dpo", "grpo");
    static final List<String> RUN_PARTS = List.of("init", "data", "recipes", "pretrain", "sft", "reward", "ppo", "dpo", "grpo",
            "results.json", "report.html");

    @Option(names = "--out", defaultValue = "runs/quickstart", paramLabel = "DIR",
            description = "Run folder (default: ${DEFAULT-VALUE}); its quickstart parts are deleted and rebuilt.")
    Path out;

    @Option(names = "--seed", defaultValue = "42", description = "Seed of the world and the initial weights (default: ${DEFAULT-VALUE}).")
    long seed;

    @Option(names = "--recipes", paramLabel = "DIR",
            description = "Run these pipeline recipes (pipeline.yaml + stage files, e.g. an edited copy of recipes/quickstart)"
                    + " instead of the built-in ones.")
    Path recipes;

    @Option(names = "--held-out", defaultValue = "256", paramLabel = "N",
            description = "Held-out words that no stage trains on (default: ${DEFAULT-VALUE}).")
    int heldOut;

    @Option(names = "--evaluate-only", hidden = true,
            description = "Skip data, model and training: evaluate the stage outputs already in --out (after re-running a stage by hand).")
    boolean evaluateOnly;

    @Option(names = "--evaluate", paramLabel = "NAME=DIR",
            description = "Also evaluate this model folder (e.g. a merged model of recipes/iterative-dpo) on the held-out words,"
                    + " as a row NAME after the stages (repeatable).")
    List<String> evaluate = new ArrayList<>();

    @Option(names = "--set", paramLabel = "STAGE.KEY=VALUE",
            description = "Override a stage's recipe key: --set ppo.max_steps=10, or for a key in a block --set ppo.ppo.kl_coef=0.1 (repeatable).")
    List<String> set = new ArrayList<>();

    @Override
    public Integer call() throws IOException {
        if (heldOut < 16 || heldOut > 1024) {
            throw new LoroException("--held-out must be between 16 and 1024, got " + heldOut);
        }
        Map<String, List<String>> extra = overrides();
        long t0 = System.nanoTime();
        ShiftWorld.Sizes sizes = new ShiftWorld.Sizes(heldOut, 4000, 4000, 2000, 1024);
        List<PipelineRunner.StageRun> runs;
        LlamaConfig config;
        if (evaluateOnly) {
            config = LlamaConfig.read(out.resolve("init"));
            Path previous = out.resolve("results.json");
            if (Files.isRegularFile(previous)) { // the run's own seed: its sampling draws, not --seed's
                seed = new ObjectMapper().readTree(previous.toFile()).path("seed").asLong(seed);
            }
            runs = STAGES.stream().map(st -> new PipelineRunner.StageRun(st,
                    out.resolve(st).resolve(st.equals("ppo") || st.equals("dpo") || st.equals("grpo") ? "merged" : "model"), 0)).toList();
        } else {
            Files.createDirectories(out);
            for (String part : RUN_PARTS) {
                AtomicFiles.deleteTreeOrFail(out.resolve(part));
            }
            Path init = out.resolve("init");
            Path tokDir = out.resolve("init-tokenizer");
            AtomicFiles.deleteTreeOrFail(tokDir);
            TinyTokenizers.writeByteLevel(tokDir, "chatml");
            try (LoroTokenizer tok = LoroTokenizer.load(tokDir)) {
                config = LlamaConfig.parse(shape(tok), "quickstart config");
            }
            InitModelCommand.write(config, init, tokDir, seed, "F32");
            AtomicFiles.deleteTreeOrFail(tokDir);
            say("1. model    %s: %,d parameters (hidden %d, %d layers), byte-level tokenizer with a ChatML template, random weights",
                    init, config.parameterCount(), config.hiddenSize(), config.numHiddenLayers());

            new ShiftWorld(seed, heldOut).write(out.resolve("data"), sizes);
            say("2. world    %s: shift each letter of a %d-letter word over '%s' one step (cafe -> dbgf); %d held-out words,"
                            + " %d sloppy demonstrations (right %.0f%%), %d right-vs-wrong comparisons", out.resolve("data"),
                    ShiftWorld.WORD_LENGTH, ShiftWorld.ALPHABET, heldOut, sizes.demonstrations(), 100 * ShiftWorld.DEMO_RIGHT,
                    sizes.pairs());

            Path recipeDir = out.resolve("recipes");
            copyRecipes(recipeDir);
            say("3. pipeline %s: pretrain -> sft -> reward -> ppo, and dpo, and grpo", recipeDir.resolve("pipeline.yaml"));
            runs = PipelineRunner.runPipeline(Pipeline.load(recipeDir.resolve("pipeline.yaml")), extra);
        }
        List<String> heldOutWords = readHeldOut(out.resolve("data").resolve("heldout.jsonl"));
        say("4. held-out evaluation on %d words", heldOutWords.size());
        List<Evaluation.Row> rows = new ArrayList<>();
        Path sftModel = produced(runs, "sft");
        int maxNew = ShiftWorld.WORD_LENGTH + 4;
        try (LlamaModel sft = LlamaModel.load(sftModel, DataType.FLOAT32, Device.cpu());
             LoroTokenizer sftTokenizer = LoroTokenizer.load(sftModel)) {
            for (String stage : List.of("pretrain", "sft", "ppo", "dpo", "grpo")) {
                rows.add(stage.equals("sft") // the reference itself: no KL to estimate
                        ? Evaluation.evaluate(stage, sft, sftTokenizer, sft, heldOutWords, maxNew, seed)
                        : Evaluation.evaluate(stage, produced(runs, stage), sft, heldOutWords, maxNew, seed));
            }
            for (String e : evaluate) {
                int eq = e.indexOf('=');
                Path dir = eq > 0 ? Path.of(e.substring(eq + 1)) : null;
                if (dir == null || !Files.isDirectory(dir)) {
                    throw new LoroException("--evaluate " + e + ": expected NAME=DIR with DIR a model folder");
                }
                rows.add(Evaluation.evaluate(e.substring(0, eq), dir, sft, heldOutWords, maxNew, seed));
            }
        }
        double[] rm = Evaluation.rewardAccuracy(produced(runs, "reward"), heldOutWords, seed);

        StringBuilder table = new StringBuilder();
        table.append(String.format(Locale.ROOT, "%-9s %9s %9s %11s %9s %8s%n", "stage", "greedy", "sampled", "KL to SFT",
                "tokens", "time"));
        for (Evaluation.Row r : rows) {
            table.append(String.format(Locale.ROOT, "%-9s %9.3f %9.3f %11s %9.1f %7.0fs%n", r.stage(), r.greedyAccuracy(),
                    r.sampledAccuracy(), r.stage().equals("sft") ? "0 (ref)" : String.format(Locale.ROOT, "%.3f", r.klToSft()),
                    r.meanResponseTokens(), seconds(runs, r.stage())));
        }
        table.append(String.format(Locale.ROOT, "reward model: held-out pairwise accuracy %.3f, mean margin %.2f (%.0fs)%n",
                rm[0], rm[1], seconds(runs, "reward")));
        System.out.print(table);

        ObjectNode results = results(config, sizes, heldOutWords.size(), rows, rm, runs, (System.nanoTime() - t0) / 1e9);
        AtomicFiles.writeString(out.resolve("results.json"), results.toPrettyString() + "\n");
        Path report = QuickstartReport.write(out, results, runs.stream().map(PipelineRunner.StageRun::name).toList());
        say("5. report   %s (loss and reward curves, this table); results.json beside it; total %.0f s", report,
                (System.nanoTime() - t0) / 1e9);
        return 0;
    }

    /** The quickstart model: a tiny Llama (GQA, tied embeddings) over the byte-level tokenizer. */
    private static ObjectNode shape(LoroTokenizer tok) {
        ObjectNode c = new ObjectMapper().createObjectNode();
        c.putArray("architectures").add("LlamaForCausalLM");
        c.put("vocab_size", tok.vocabSize());
        c.put("hidden_size", 128);
        c.put("intermediate_size", 352);
        c.put("num_hidden_layers", 4);
        c.put("num_attention_heads", 8);
        c.put("num_key_value_heads", 4);
        c.put("max_position_embeddings", 128);
        c.put("rms_norm_eps", 1e-5);
        c.put("rope_theta", 10000.0);
        c.put("initializer_range", 0.02);
        c.put("bos_token_id", tok.bosId());
        c.put("eos_token_id", tok.eosId());
        c.put("pad_token_id", tok.padId());
        c.put("tie_word_embeddings", true);
        return c;
    }

    private ObjectNode results(LlamaConfig config, ShiftWorld.Sizes sizes, int heldOutCount, List<Evaluation.Row> rows, double[] rm,
                               List<PipelineRunner.StageRun> runs, double totalSeconds) {
        ObjectNode o = new ObjectMapper().createObjectNode();
        o.put("seed", seed);
        o.put("parameters", config.parameterCount());
        o.put("held_out_words", heldOutCount);
        o.put("demonstrations", sizes.demonstrations());
        o.put("demonstrations_right", ShiftWorld.DEMO_RIGHT);
        o.put("comparisons", sizes.pairs());
        ArrayNode stages = o.putArray("stages");
        for (Evaluation.Row r : rows) {
            ObjectNode s = stages.addObject();
            s.put("stage", r.stage());
            s.put("greedy_accuracy", r.greedyAccuracy());
            s.put("sampled_accuracy", r.sampledAccuracy());
            if (!Double.isNaN(r.klToSft())) {
                s.put("kl_to_sft", r.stage().equals("sft") ? 0.0 : r.klToSft());
            }
            s.put("mean_response_tokens", r.meanResponseTokens());
            s.put("seconds", seconds(runs, r.stage()));
        }
        ObjectNode reward = o.putObject("reward_model");
        reward.put("held_out_pairwise_accuracy", rm[0]);
        reward.put("held_out_mean_margin", rm[1]);
        reward.put("seconds", seconds(runs, "reward"));
        o.put("total_seconds", totalSeconds);
        return o;
    }

    /** The held-out words as written in the run's data folder (the split is the data's, not recomputed). */
    private static List<String> readHeldOut(Path file) throws IOException {
        if (!Files.isRegularFile(file)) {
            throw new LoroException(file + ": not found; run the quickstart without --evaluate-only first");
        }
        List<String> words = new ArrayList<>();
        ObjectMapper json = new ObjectMapper();
        for (String line : Files.readAllLines(file)) {
            if (!line.isBlank()) {
                words.add(json.readTree(line).path("prompt").asText());
            }
        }
        return words;
    }

    private static Path produced(List<PipelineRunner.StageRun> runs, String stage) {
        return runs.stream().filter(r -> r.name().equals(stage) && r.produced() != null).findFirst()
                .map(PipelineRunner.StageRun::produced)
                .orElseThrow(() -> new LoroException("the quickstart pipeline has no stage '" + stage
                        + "' that writes a full model (pretrain, sft, reward, ppo, dpo and grpo are needed; ppo, dpo and grpo with export.merged)"));
    }

    private static double seconds(List<PipelineRunner.StageRun> runs, String stage) {
        return runs.stream().filter(r -> r.name().equals(stage)).mapToDouble(PipelineRunner.StageRun::seconds).sum();
    }

    private void copyRecipes(Path dest) throws IOException {
        Files.createDirectories(dest);
        for (String name : RECIPES) {
            Path target = dest.resolve(name);
            if (recipes != null) {
                Path src = recipes.resolve(name);
                if (!Files.isRegularFile(src)) {
                    throw new LoroException(src + ": not found (--recipes needs " + String.join(", ", RECIPES) + ")");
                }
                Files.copy(src, target, StandardCopyOption.REPLACE_EXISTING);
            } else {
                try (InputStream in = QuickstartCommand.class.getResourceAsStream("/quickstart/" + name)) {
                    if (in == null) {
                        throw new LoroException("the built-in quickstart recipe " + name + " is missing from the jar; rebuild with ./loro");
                    }
                    Files.copy(in, target, StandardCopyOption.REPLACE_EXISTING);
                }
            }
        }
    }

    /** --set STAGE.KEY=VALUE → KEY=VALUE overrides per stage name. */
    private Map<String, List<String>> overrides() {
        Map<String, List<String>> out = new HashMap<>();
        for (String s : set) {
            int dot = s.indexOf('.');
            int eq = s.indexOf('=');
            String stage = dot < 0 ? "" : s.substring(0, dot);
            if (dot < 0 || eq < dot || !STAGES.contains(stage)) {
                throw new LoroException("--set " + s + ": expected STAGE.KEY=VALUE with STAGE one of " + String.join(", ", STAGES));
            }
            out.computeIfAbsent(stage, k -> new ArrayList<>()).add(s.substring(dot + 1));
        }
        return out;
    }

    private static void say(String fmt, Object... args) {
        System.out.println(String.format(Locale.ROOT, fmt, args));
    }

}
