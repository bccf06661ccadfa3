package ai.loro.core;

/**
 * An error caused by the user's input (a file, a key, a value). Its message is one line that names
 * the file, key or line and what is allowed; the CLI prints it and exits non-zero, without a stack
 * trace.
 */
public class LoroException extends RuntimeException {
    public LoroException(String message) {
        super(message);
    }

    public LoroException(String message, Throwable cause) {
        super(message, cause);
    }
}
