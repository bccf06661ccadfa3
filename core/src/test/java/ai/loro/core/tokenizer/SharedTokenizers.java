package ai.loro.core.tokenizer;

import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.nio.file.Files;
import java.nio.file.Path;

/** Locates /shared/tokenizers/&lt;name&gt; for tests; skips the test when it is absent. */
public final class SharedTokenizers {
    private SharedTokenizers() {}

    public static Path dir(String name) {
        Path found = find(name);
        assumeTrue(found != null, "shared tokenizer '" + name + "' not found (set -Dloro.shared); skipping");
        return found;
    }

    public static Path find(String name) {
        String prop = System.getProperty("loro.shared");
        Path[] roots = {
            prop == null ? null : Path.of(prop), Path.of("../shared"), Path.of("../../shared"),
        };
        for (Path root : roots) {
            if (root == null) {
                continue;
            }
            Path d = root.resolve("tokenizers").resolve(name);
            if (Files.isRegularFile(d.resolve("tokenizer.json"))) {
                return d;
            }
        }
        return null;
    }
}
