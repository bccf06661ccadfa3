package ai.loro.cli;

import ai.loro.core.LoroException;
import ai.loro.core.io.AtomicFiles;
import ai.loro.core.recipe.Pipeline;
import ai.loro.spark.kernel.Batches;
import ai.loro.spark.kernel.GenerateKernel;
import ai.loro.spark.kernel.InputRow;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.Iterator;
import java.util.List;
import java.util.stream.Stream;

/**
 * A pipeline's generate stage: K samples per prompt, each scored by the reward model (the {@code loro spark generate}
 * kernel: sample s of prompt row r drawn with a seed made from (seed, r, s)), run through Spark when the stage names a
 * master, else in this process over the same batches, so both write the same samples; then {@link BestWorstPairs}.
 * Writes {@code DIR/samples.jsonl} (every sample, sorted by row and sample) and {@code DIR/pairs.jsonl}.
 */
final class GenerateStage {
    private GenerateStage() {}

    /** System property: the launcher script (set by ./loro), which runs {@code loro spark} on Spark's class path. */
    static final String LAUNCHER = "loro.launcher";

    private static final ObjectMapper JSON = new ObjectMapper();

    /** What the stage wrote. */
    record Written(Path samples, Path pairs, int prompts, int pairCount, int skipped) {}

    static Written run(Pipeline.Generate g, Path model, Path rewardModel, Path dir, String where) throws IOException {
        if (!Files.isRegularFile(g.prompts())) {
            throw new LoroException(where + "generate.prompts " + g.prompts() + ": file not found");
        }
        AtomicFiles.deleteTreeOrFail(dir); // a generate stage starts afresh (its samples are a function of its settings)
        Files.createDirectories(dir);
        List<JsonNode> samples = g.master().isPresent() ? throughSpark(g, model, rewardModel, dir, where)
                : inProcess(g, model, rewardModel);
        samples.sort(Comparator.<JsonNode>comparingLong(j -> j.get("row").asLong()).thenComparingLong(j -> j.get("sample").asLong()));
        StringBuilder all = new StringBuilder();
        for (JsonNode j : samples) {
            all.append(JSON.writeValueAsString(j)).append('\n');
        }
        Path samplesFile = dir.resolve("samples.jsonl");
        AtomicFiles.writeString(samplesFile, all.toString());
        BestWorstPairs.Result pairs = BestWorstPairs.of(samples);
        StringBuilder out = new StringBuilder();
        for (ObjectNode p : pairs.pairs()) {
            out.append(JSON.writeValueAsString(p)).append('\n');
        }
        Path pairsFile = dir.resolve("pairs.jsonl");
        AtomicFiles.writeString(pairsFile, out.toString());
        return new Written(samplesFile, pairsFile, pairs.prompts(), pairs.pairs().size(), pairs.skipped());
    }

    static GenerateKernel kernel(Pipeline.Generate g, Path model, Path rewardModel) {
        return new GenerateKernel(g.prompts().toString(), model.toString(), null, g.chat(), null,
                new GenerateKernel.Sampling(g.maxNewTokens(), g.temperature(), 0, g.topP(), g.seed(), List.of()), g.numSamples(),
                g.batchSize(), rewardModel.toString(), null, "tokenizer", g.sequenceLen());
    }

    /** The kernel over the whole prompts file in this JVM: rows numbered by line as the Spark job numbers them. */
    static List<JsonNode> inProcess(Pipeline.Generate g, Path model, Path rewardModel) throws IOException {
        List<String> lines = Files.readAllLines(g.prompts());
        List<InputRow> rows = new ArrayList<>();
        for (int i = 0; i < lines.size(); i++) {
            if (!lines.get(i).isBlank()) {
                rows.add(new InputRow(i, lines.get(i)));
            }
        }
        List<JsonNode> out = new ArrayList<>();
        for (Iterator<String> it = Batches.run(kernel(g, model, rewardModel), rows.iterator()); it.hasNext(); ) {
            out.add(JSON.readTree(it.next()));
        }
        return out;
    }

    /** The {@code loro spark generate} job at the stage's master (jsonl output in DIR/spark-samples). */
    static List<JsonNode> throughSpark(Pipeline.Generate g, Path model, Path rewardModel, Path dir, String where) throws IOException {
        Path out = dir.resolve("spark-samples");
        List<String> args = new ArrayList<>(List.of("generate", "--model", model.toString(), "--input",
                g.prompts().toAbsolutePath().toString(), "--output", out.toString(), "--master", g.master().get(), "--format", "jsonl",
                "--num-samples", String.valueOf(g.numSamples()), "--temperature", String.valueOf(g.temperature()), "--top-p",
                String.valueOf(g.topP()), "--max-new-tokens", String.valueOf(g.maxNewTokens()), "--seed", String.valueOf(g.seed()),
                "--reward-model", rewardModel.toString(), "--batch-size", String.valueOf(g.batchSize()), "--sequence-len",
                String.valueOf(g.sequenceLen())));
        if (g.chat()) {
            args.add("--chat");
        }
        if (g.partitions() > 0) {
            args.addAll(List.of("--partitions", String.valueOf(g.partitions())));
        }
        int code = sparkMain(args, where);
        if (code != 0) {
            throw new LoroException(where + "the loro spark generate job failed (exit " + code + "; its error is above)");
        }
        List<JsonNode> rows = new ArrayList<>();
        try (Stream<Path> files = Files.list(out)) {
            for (Path f : files.filter(f -> f.getFileName().toString().startsWith("part-")).sorted().toList()) {
                for (String l : Files.readAllLines(f)) {
                    if (!l.isBlank()) {
                        rows.add(JSON.readTree(l));
                    }
                }
            }
        }
        return rows;
    }

    /** Spark in this JVM when it is on the class path (tests, spark-submit), else {@code loro spark} through the launcher. */
    private static int sparkMain(List<String> args, String where) throws IOException {
        Class<?> main;
        try {
            main = Class.forName("ai.loro.spark.SparkMain");
        } catch (ClassNotFoundException e) {
            main = null;
        }
        if (main != null) {
            StringWriter err = new StringWriter();
            PrintWriter out = new PrintWriter(System.out, true);
            try {
                int code = (Integer) main.getMethod("run", String[].class, PrintWriter.class, PrintWriter.class)
                        .invoke(null, args.toArray(new String[0]), out, new PrintWriter(err, true));
                if (code != 0) {
                    throw new LoroException(where + "loro spark generate: " + err.toString().strip().replaceFirst("^error: ", ""));
                }
                return code;
            } catch (ReflectiveOperationException e) {
                throw new LoroException(where + "cannot run loro spark in this JVM: " + e);
            }
        }
        String launcher = System.getProperty(LAUNCHER);
        if (launcher == null) {
            throw new LoroException(where + "generate.master runs the stage on Spark, which is not on this JVM's class path: run the"
                    + " pipeline through ./loro (the launcher), or leave out generate.master to generate in this process");
        }
        List<String> cmd = new ArrayList<>(List.of(launcher, "spark"));
        cmd.addAll(args);
        try {
            return new ProcessBuilder(cmd).inheritIO().start().waitFor();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new LoroException(where + "interrupted while waiting for loro spark generate");
        }
    }
}
