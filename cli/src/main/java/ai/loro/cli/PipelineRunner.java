package ai.loro.cli;

import ai.loro.core.LoroException;
import ai.loro.core.io.HubCache;
import ai.loro.core.recipe.Pipeline;
import ai.loro.core.recipe.Recipe;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/** Runs a pipeline (a file with {@code stages:}) stage after stage, each stage's inputs resolved from earlier outputs. */
final class PipelineRunner {
    private PipelineRunner() {}

    /** What one pipeline stage produced: its full model (or null) and its wall time. */
    record StageRun(String name, Path produced, double seconds) {}

    static List<StageRun> runPipeline(Pipeline p) {
        return runPipeline(p, Map.of());
    }

    /** Runs a pipeline; {@code extra} adds overrides (KEY=VALUE) to the named stages after their own 'set:'. */
    static List<StageRun> runPipeline(Pipeline p, Map<String, List<String>> extra) {
        List<StageRun> runs = new ArrayList<>();
        Map<String, Path> outputs = new HashMap<>();
        Path dir = p.file().toAbsolutePath().getParent();
        Map<String, Path> pairsFiles = new HashMap<>();
        for (Pipeline.Stage s : p.stages()) {
            if (s.generate().isPresent()) {
                runs.add(runGenerate(p, s, outputs, pairsFiles, dir));
                continue;
            }
            List<String> overrides = new ArrayList<>(s.set());
            overrides.addAll(extra.getOrDefault(s.name(), List.of()));
            p.outputDir().ifPresent(o -> overrides.add("output_dir=" + o.resolve(s.name())));
            String where = p.file() + ": stage '" + s.name() + "': ";
            s.baseModel().ifPresent(ref -> overrides.add("base_model=" + resolve(ref, outputs, dir, where + "base_model")));
            s.rewardModel().ifPresent(ref -> overrides.add("ppo.reward_model="
                    + resolve(ref, outputs, dir, where + "reward_model")));
            s.pairs().ifPresent(g -> overrides.add("datasets.0.path=" + pairsFiles.get(g)));
            if (p.consumed().contains(s.name())) {
                overrides.add("export.merged=true"); // a later stage needs a full checkpoint, not an adapter
            }
            Path recipePath = s.recipe();
            Recipe r = Recipes.load(recipePath, overrides);
            if (s.rewardModel().isPresent() && !r.stage().equals("ppo")) {
                throw new LoroException(p.file() + ": stage '" + s.name() + "' sets reward_model, which only a ppo stage takes");
            }
            System.out.printf("=== pipeline stage %s (%s): %s%n", s.name(), r.stage(), recipePath);
            long t0 = System.nanoTime();
            Path produced = TrainCommand.runStage(r);
            if (produced != null) {
                outputs.put(s.name(), produced);
            }
            runs.add(new StageRun(s.name(), produced, (System.nanoTime() - t0) / 1e9));
        }
        return runs;
    }

    /** A generate stage: samples and best-vs-worst pairs in output_dir/NAME (or beside the pipeline, in NAME). */
    private static StageRun runGenerate(Pipeline p, Pipeline.Stage s, Map<String, Path> outputs, Map<String, Path> pairsFiles, Path dir) {
        Pipeline.Generate g = s.generate().get();
        String where = p.file() + ": stage '" + s.name() + "': ";
        Path model = resolve(g.model(), outputs, dir, where + "generate.model");
        Path rewardModel = resolve(g.rewardModel(), outputs, dir, where + "generate.reward_model");
        Path out = p.outputDir().orElse(dir).resolve(s.name()).toAbsolutePath().normalize();
        System.out.printf("=== pipeline stage %s (generate%s): %d samples per prompt of %s from %s, scored by %s%n", s.name(),
                g.master().map(m -> " on Spark " + m).orElse(""), g.numSamples(), g.prompts(), model, rewardModel);
        long t0 = System.nanoTime();
        GenerateStage.Written w;
        try {
            w = GenerateStage.run(g, model, rewardModel, out, where);
        } catch (java.io.IOException e) {
            throw new LoroException(where + "cannot write " + out + ": " + e.getMessage(), e);
        }
        System.out.printf("wrote %s: %d pairs from %d prompts (%d with best reward = worst skipped); samples in %s%n", w.pairs(),
                w.pairCount(), w.prompts(), w.skipped(), w.samples());
        if (w.pairCount() == 0) {
            throw new LoroException(where + "no pairs: every prompt's samples got the same reward (raise num_samples or temperature)");
        }
        pairsFiles.put(s.name(), w.pairs());
        return new StageRun(s.name(), null, (System.nanoTime() - t0) / 1e9);
    }

    /** An earlier stage's output, else a path relative to the pipeline's folder, else a Hub id in the local cache. */
    private static Path resolve(String ref, Map<String, Path> outputs, Path dir, String where) {
        Path out = outputs.get(ref);
        if (out != null) {
            return out.toAbsolutePath();
        }
        try {
            return HubCache.resolve(ref, dir);
        } catch (LoroException e) {
            throw new LoroException(where + " " + ref + " is " + e.getMessage(), e);
        }
    }
}
