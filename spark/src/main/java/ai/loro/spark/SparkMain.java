package ai.loro.spark;

import ai.loro.core.CommandErrors;
import ai.loro.core.LoroException;
import java.io.PrintWriter;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/**
 * {@code loro spark <job>}: batch jobs on Apache Spark. The launcher runs this class on a class path with Spark
 * (spark/target); under spark-submit it is the application's main class.
 */
@Command(name = "loro spark", mixinStandardHelpOptions = true,
        description = {"Batch jobs on Apache Spark: embedded (--master local[N], in this JVM) or on a cluster through"
                + " spark-submit (--master yarn | k8s://https://host:port | spark://host:port; needs SPARK_HOME).",
            "Output rows carry the input line's fields and \"row\" (its 0-based line); an existing --output is refused."},
        subcommands = {LogprobsJob.class, ScoreJob.class, GenerateJob.class, RefLogprobsJob.class, CommandLine.HelpCommand.class})
public final class SparkMain implements Runnable {
    @CommandLine.Spec CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        spec.commandLine().usage(spec.commandLine().getOut());
    }

    public static void main(String[] args) {
        // the launcher passes "spark" first (loro spark ...); spark-submit passes the job name first
        String[] rest = args.length > 0 && args[0].equals("spark") ? java.util.Arrays.copyOfRange(args, 1, args.length) : args;
        int code = run(rest, new PrintWriter(System.out, true), new PrintWriter(System.err, true));
        System.exit(code);
    }

    /** Runs a job command line; returns the exit code (0 success, 1 bad input or failure, 2 usage). */
    public static int run(String[] args, PrintWriter out, PrintWriter err) {
        CommandLine cli = new CommandLine(new SparkMain());
        cli.setOut(out);
        cli.setErr(err);
        cli.setParameterExceptionHandler((ex, a) ->
                CommandErrors.usage(err, ex.getMessage(), ex.getCommandLine().getCommandSpec().qualifiedName()));
        cli.setExecutionExceptionHandler((ex, commandLine, parseResult) -> CommandErrors.failure(err, ex, SparkMain::describe));
        return cli.execute(args);
    }

    /** One line: the first Loro error in the cause chain (a task's error reaches the driver wrapped by Spark). */
    static String describe(Throwable ex) {
        String loro = CommandErrors.loroMessage(ex);
        if (loro != null) {
            return loro;
        }
        for (Throwable t = ex; t != null; t = t.getCause()) {
            String m = String.valueOf(t.getMessage());
            int at = m.indexOf(LoroException.class.getName() + ": ");
            if (at >= 0) {
                return LoroException.oneLine(m.substring(at + LoroException.class.getName().length() + 2));
            }
        }
        if (ex instanceof OutOfMemoryError) {
            return "out of memory (raise the JVM heap with LORO_JAVA_OPTS=-Xmx..., or use a smaller --batch-size)";
        }
        return CommandErrors.unexpected(ex);
    }
}
