package ai.loro.cli;

import ai.loro.cli.report.RunReport;
import ai.loro.core.LoroException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.stream.Stream;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code loro report RUN_DIR}: an HTML page of a run's (or a pipeline's stages') metric curves. */
@Command(name = "report", mixinStandardHelpOptions = true,
        description = {"Write an HTML report of a training run: loss / reward / KL curves from its metrics.jsonl (panels by stage"
                + " kind from its recipe.yaml) and the last PPO samples. Given a pipeline's output folder, one section per stage"
                + " folder (those holding metrics.jsonl, in name order). Self-contained: inline SVG, no script, no network."})
final class ReportCommand implements Callable<Integer> {
    @Parameters(index = "0", paramLabel = "RUN_DIR", description = "A stage's output_dir, or a pipeline's output_dir.") Path run;

    @Option(names = "--out", paramLabel = "FILE", description = "Where to write (default: RUN_DIR/report.html).") Path out;

    @Override
    public Integer call() throws IOException {
        if (!Files.isDirectory(run)) {
            throw new LoroException(run + ": not a folder (give a run's output_dir)");
        }
        List<Path> stages;
        if (Files.isRegularFile(run.resolve("metrics.jsonl"))) {
            stages = List.of(run);
        } else {
            try (Stream<Path> s = Files.list(run)) {
                stages = s.filter(p -> Files.isRegularFile(p.resolve("metrics.jsonl"))).sorted().toList();
            }
        }
        if (stages.isEmpty()) {
            throw new LoroException(run + ": no metrics.jsonl in it or in its sub-folders (give a run's output_dir, after training)");
        }
        StringBuilder h = new StringBuilder(RunReport.begin("Loro run " + run.toAbsolutePath().normalize().getFileName()));
        for (Path stage : stages) {
            h.append(RunReport.stageSection(stage.getFileName().toString(), stage));
        }
        Path file = RunReport.writeAtomically(out != null ? out : run.resolve("report.html"), h.append(RunReport.end()).toString());
        System.out.printf("wrote %s (%d stage%s)%n", file, stages.size(), stages.size() == 1 ? "" : "s");
        return 0;
    }
}
