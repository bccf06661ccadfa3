package ai.loro.cli;

import ai.loro.core.CommandErrors;
import ai.loro.core.LoroException;
import java.io.PrintWriter;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/** {@code loro}: the command-line entry point. Every user error ends as one line on stderr. */
@Command(name = "loro", mixinStandardHelpOptions = true, version = "loro 0.1.0",
        description = "Align and fine-tune Llama-class models from Java.",
        subcommands = {QuickstartCommand.class, LogprobsCommand.class, GenerateCommand.class, InitModelCommand.class, MergeCommand.class, ExportCommand.class, DataCommand.class, TrainCommand.class, ScoreCommand.class, ReportCommand.class, ServeCommand.class, SparkCommand.class,
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
        cli.setParameterExceptionHandler((ex, a) ->
                CommandErrors.usage(err, ex.getMessage(), ex.getCommandLine().getCommandSpec().qualifiedName()));
        cli.setExecutionExceptionHandler((ex, commandLine, parseResult) -> CommandErrors.failure(err, ex, Main::describe));
        String env = libtorchPathProblem(System.getenv("PYTORCH_LIBRARY_PATH"));
        if (env != null) {
            err.println("error: " + env);
            return 1;
        }
        return cli.execute(args);
    }

    /**
     * DJL silently falls back to the bundled CPU libtorch when PYTORCH_LIBRARY_PATH holds none; a
     * user who set it means to run on that libtorch, so a folder without one is an error.
     */
    static String libtorchPathProblem(String path) {
        if (path == null || path.isEmpty()) {
            return null;
        }
        java.nio.file.Path dir = java.nio.file.Path.of(path);
        if (!java.nio.file.Files.isDirectory(dir)) {
            return "PYTORCH_LIBRARY_PATH=" + path + " is not a folder (it should hold libtorch.so, e.g. <python site-packages>/torch/lib);"
                    + " unset it to use the bundled CPU libtorch";
        }
        for (String lib : java.util.List.of("libtorch.so", "libtorch_cpu.so", "libtorch.dylib", "torch.dll")) {
            if (java.nio.file.Files.exists(dir.resolve(lib))) {
                return null;
            }
        }
        return "PYTORCH_LIBRARY_PATH=" + path + " holds no libtorch.so / libtorch_cpu.so (DJL would silently use its bundled CPU"
                + " libtorch instead); point it at the folder with libtorch.so, or unset it";
    }

    static String describe(Throwable ex) {
        String loro = CommandErrors.loroMessage(ex);
        if (loro != null) {
            return loro;
        }
        String engine = engineFailure(ex);
        if (engine != null) {
            return engine;
        }
        if (ex instanceof OutOfMemoryError) {
            return "out of memory (raise the JVM heap with LORO_JAVA_OPTS=-Xmx..., or use a smaller batch)";
        }
        return CommandErrors.unexpected(ex);
    }

    /** DJL's libtorch version that its JNI bridge (pytorch-jni 2.7.1-0.35.1) is compiled against. */
    static final String JNI_LIBTORCH = "2.7.1";

    /**
     * When libtorch (or DJL's JNI bridge to it) failed to load: one line naming where DJL looked,
     * the versions involved and what to do; else null.
     */
    static String engineFailure(Throwable ex) {
        Throwable hit = null;
        for (Throwable t = ex; t != null; t = t.getCause()) {
            String m = String.valueOf(t.getMessage());
            // an EngineException alone is no load failure: libtorch ops report their errors with it too
            if (t instanceof UnsatisfiedLinkError || m.contains("djl_torch") || m.contains("libtorch") || m.contains("PyTorch native library")) {
                hit = t;
            }
        }
        if (hit == null) {
            return null;
        }
        String path = System.getenv("PYTORCH_LIBRARY_PATH");
        String cause = LoroException.oneLine(hit.getClass().getSimpleName() + ": " + hit.getMessage());
        if (path == null) {
            return "DJL could not load its bundled CPU libtorch " + JNI_LIBTORCH + ": " + cause
                    + " (is this linux-x86_64 with glibc? a -Pcuda build needs PYTORCH_LIBRARY_PATH or a CUDA libtorch)";
        }
        return "DJL could not load libtorch from PYTORCH_LIBRARY_PATH=" + path + " (PYTORCH_VERSION="
                + System.getenv().getOrDefault("PYTORCH_VERSION", "unset") + ", PYTORCH_FLAVOR="
                + System.getenv().getOrDefault("PYTORCH_FLAVOR", "unset") + "): " + cause + "; DJL 0.35.1's JNI bridge is built"
                + " for libtorch " + JNI_LIBTORCH + ", so point PYTORCH_LIBRARY_PATH at a " + JNI_LIBTORCH
                + " libtorch (CPU or CUDA build) or unset it to use the bundled CPU libtorch";
    }

}
