package ai.loro.core;

import java.io.PrintWriter;
import java.util.function.Function;

/**
 * How a failed command reaches its user, for every entry point (the CLI's {@code Main}, the Spark
 * launcher's {@code SparkMain}): one line on stderr that starts with {@code error: }, a stack trace
 * only when {@code LORO_DEBUG} is set, and the exit code (1 failure or bad input, 2 usage).
 */
public final class CommandErrors {
    private CommandErrors() {}

    public static final int FAILURE = 1;
    public static final int USAGE = 2;

    /** A command line the parser refused: {@code error: <message> (see '<command> --help')}; returns {@link #USAGE}. */
    public static int usage(PrintWriter err, String message, String command) {
        err.println("error: " + LoroException.oneLine(message) + " (see '" + command + " --help')");
        return USAGE;
    }

    /** A command that threw: {@code error: } and {@code describe(ex)}, the trace with LORO_DEBUG; returns {@link #FAILURE}. */
    public static int failure(PrintWriter err, Throwable ex, Function<Throwable, String> describe) {
        err.println("error: " + describe.apply(ex));
        if (System.getenv("LORO_DEBUG") != null) {
            ex.printStackTrace(err);
        }
        return FAILURE;
    }

    /** The message of the first {@link LoroException} in {@code ex}'s cause chain, or null when there is none. */
    public static String loroMessage(Throwable ex) {
        for (Throwable t = ex; t != null; t = t.getCause()) {
            if (t instanceof LoroException) {
                return LoroException.oneLine(t.getMessage());
            }
        }
        return null;
    }

    /** The last resort for an error no one described: its class and message, and how to see the trace. */
    public static String unexpected(Throwable ex) {
        return LoroException.oneLine(ex.getClass().getSimpleName() + ": " + ex.getMessage()) + " (set LORO_DEBUG=1 for a stack trace)";
    }
}
