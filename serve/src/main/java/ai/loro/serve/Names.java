package ai.loro.serve;

/** What a served model or adapter id may look like. */
final class Names {
    private Names() {}

    /** Letters, digits and {@code . _ - / :}, 1 to 128 characters. */
    static boolean valid(String name) {
        return name != null && name.matches("[A-Za-z0-9._/:-]{1,128}");
    }

    static void checkAdapterName(String name, String where) {
        if (!valid(name)) {
            throw new IllegalArgumentException(where + " name '" + name + "' is not allowed: use 1 to 128 letters, digits"
                    + " or . _ - / :");
        }
    }
}
