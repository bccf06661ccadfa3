package ai.loro.datasets;

import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

/** Test helpers: files and the shared real tokenizers (skipped when absent). */
final class TestData {
    private TestData() {}

    static Path write(Path dir, String name, String text) {
        try {
            Path p = dir.resolve(name);
            Files.writeString(p, text, StandardCharsets.UTF_8);
            return p;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** shared/tokenizers/NAME from -Dloro.shared or ../shared; the test is skipped when absent. */
    static Path sharedTokenizer(String name) {
        String prop = System.getProperty("loro.shared");
        Path[] roots = {prop == null ? null : Path.of(prop), Path.of("../shared"), Path.of("../../shared")};
        for (Path root : roots) {
            if (root != null && Files.isRegularFile(root.resolve("tokenizers").resolve(name).resolve("tokenizer.json"))) {
                return root.resolve("tokenizers").resolve(name);
            }
        }
        assumeTrue(false, "shared tokenizer '" + name + "' not found (set -Dloro.shared); skipping");
        return null;
    }
}
