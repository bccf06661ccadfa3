package ai.loro.core;

/**
 * An error caused by the user's input (a file, a key, a value). Its message is one line that names
 * the file, key or line and what is allowed; the CLI prints it and exits non-zero, without a stack
 * trace. Messages are made one line here, once: line breaks (and the spaces around them) in a
 * message built from a library's text become single spaces.
 */
public class LoroException extends RuntimeException {
    public LoroException(String message) {
        super(oneLine(message));
    }

    public LoroException(String message, Throwable cause) {
        super(oneLine(message), cause);
    }

    /** {@code s} on one line: each run of line breaks and the whitespace around it becomes one space; trimmed. */
    public static String oneLine(String s) {
        return s == null ? "" : s.replaceAll("\\s*[\\r\\n]+\\s*", " ").trim();
    }

    /** {@link #oneLine(String)}, cut to {@code max} characters with "..." when longer. */
    public static String oneLine(String s, int max) {
        String t = oneLine(s);
        return t.length() > max ? t.substring(0, max) + "..." : t;
    }
}
