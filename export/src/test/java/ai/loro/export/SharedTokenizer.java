package ai.loro.export;

import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.nio.file.Files;
import java.nio.file.Path;

/** The real Llama 3 / Qwen3 tokenizers in ../shared/tokenizers; tests using them are skipped where the folder is absent. */
final class SharedTokenizer {
    private SharedTokenizer() {}

    static Path llama3() {
        return find("llama3");
    }

    static Path qwen3() {
        return find("qwen3");
    }

    private static Path find(String name) {
        String prop = System.getProperty("loro.shared");
        for (Path root : new Path[] {prop == null ? null : Path.of(prop), Path.of("../shared"), Path.of("../../shared")}) {
            if (root != null && Files.isRegularFile(root.resolve("tokenizers").resolve(name).resolve("tokenizer.json"))) {
                return root.resolve("tokenizers").resolve(name);
            }
        }
        assumeTrue(false, "shared tokenizer '" + name + "' not found (set -Dloro.shared); skipping");
        return null;
    }
}
