package ai.loro.spark;

import ai.loro.core.LoroException;
import ai.loro.core.io.HubCache;
import java.nio.file.Files;
import java.nio.file.Path;

/** {@code --model} values: a folder as given, or a Hub id resolved in the local Hugging Face cache (on the driver). */
final class ModelPaths {
    private ModelPaths() {}

    static String resolve(String option, String value) {
        if (value == null || Files.exists(Path.of(value)) || HubCache.parseRepoId(value) == null) {
            return value == null ? null : Path.of(value).toAbsolutePath().normalize().toString();
        }
        try {
            return HubCache.resolve(value).toString();
        } catch (LoroException e) {
            throw new LoroException(option + " " + value + " is " + e.getMessage(), e);
        }
    }
}
