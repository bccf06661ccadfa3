package ai.loro.cli;

import ai.loro.core.LoroException;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Unmatched;

/**
 * {@code loro spark ...} as {@code loro --help} lists it. The launcher (./loro) dispatches {@code loro spark} to the
 * spark/ module on Spark's class path before this JVM starts; reaching this command means the CLI jar was run alone.
 */
@Command(name = "spark", description = "Batch jobs on Apache Spark: logprobs, score, generate, ref-logprobs (embedded local[N] or"
        + " a cluster; run through ./loro; see loro spark --help).")
final class SparkCommand implements Callable<Integer> {
    @Unmatched List<String> args = new ArrayList<>();

    @Override
    public Integer call() {
        throw new LoroException("loro spark runs on Spark's class path, which the launcher sets up: run ./loro spark "
                + String.join(" ", args).strip() + " (after mvn -B -DskipTests package builds spark/)");
    }
}
