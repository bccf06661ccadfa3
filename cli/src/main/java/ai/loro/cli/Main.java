package ai.loro.cli;

import ai.loro.core.LoroException;
import java.io.PrintWriter;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/** {@code loro}: the command-line entry point. Every user error ends as one line on stderr. */
@Command(name = "loro", mixinStandardHelpOptions = true, version = "loro 0.1.0",
        description = "Align and fine-tune Llama-class models from Java.",
        subcommands = {QuickstartCommand.class, LogprobsCommand.class, GenerateCommand.class, InitModelCommand.class, MergeCommand.class, DataCommand.class, TrainCommand.class, ScoreCommand.class,
                BenchCommand.class, CommandLine.HelpCommand.class})
public final class Main implements Runnable {
    @CommandLine.Spec CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        spec.commandLine().usage(System.out);
    }

    public static void main(String[] args) {
        System.exit(run(args, new PrintWriter(System.out, true), new PrintWriter(System.err, true)));
    }

    /** Runs a command line; returns the exit code (0 success, 1 bad input or failure, 2 usage). */
    public static int run(String[] args, PrintWriter out, PrintWriter err) {
        CommandLine cli = new CommandLine(new Main());
        cli.setOut(out);
        cli.setErr(err);
        cli.setParameterExceptionHandler((ex, a) -> {
            String cmd = ex.getCommandLine().getCommandSpec().qualifiedName();
            err.println("error: " + oneLine(ex.getMessage()) + " (see '" + cmd + " --help')");
            return 2;
        });
        cli.setExecutionExceptionHandler((ex, commandLine, parseResult) -> {
            err.println("error: " + describe(ex));
            if (System.getenv("LORO_DEBUG") != null) {
                ex.printStackTrace(err);
            }
            return 1;
        });
        return cli.execute(args);
    }

    static String describe(Throwable ex) {
        for (Throwable t = ex; t != null; t = t.getCause()) {
            if (t instanceof LoroException) {
                return oneLine(t.getMessage());
            }
        }
        if (ex instanceof OutOfMemoryError) {
            return "out of memory (raise the JVM heap with LORO_JAVA_OPTS=-Xmx..., or use a smaller batch)";
        }
        return oneLine(ex.getClass().getSimpleName() + ": " + ex.getMessage()) + " (set LORO_DEBUG=1 for a stack trace)";
    }

    static String oneLine(String s) {
        if (s == null) {
            return "";
        }
        return s.replace('\n', ' ').replace('\r', ' ').trim();
    }
}
