package ai.loro.core.io;

import ai.loro.core.LoroException;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Comparator;
import java.util.UUID;
import java.util.stream.Stream;

/**
 * Nothing half-written is ever seen under a final name: files and folders are assembled under a
 * temporary sibling name ({@code .<name>.tmp-<random>}, never read) and renamed into place.
 */
public final class AtomicFiles {
    private AtomicFiles() {}

    /** A fresh temporary sibling of {@code target}: {@code .<name>.tmp-<8 hex>} in the same folder. */
    public static Path tempSibling(Path target) {
        Path abs = target.toAbsolutePath();
        return abs.resolveSibling("." + abs.getFileName() + ".tmp-" + UUID.randomUUID().toString().substring(0, 8));
    }

    /** Writes {@code text} (UTF-8) to {@code file} through a temporary file and a rename. */
    public static void writeString(Path file, String text) {
        write(file, text.getBytes(StandardCharsets.UTF_8));
    }

    /** Writes {@code bytes} to {@code file} through a temporary file and a rename. */
    public static void write(Path file, byte[] bytes) {
        Path tmp = tempSibling(file);
        try {
            Files.createDirectories(tmp.getParent());
            Files.write(tmp, bytes);
            Files.move(tmp, file.toAbsolutePath(), StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } catch (IOException e) {
            throw new LoroException(file + ": cannot write: " + e.getMessage(), e);
        } finally {
            deleteQuietly(tmp);
        }
    }

    /** Refuses an output folder that already holds something. */
    public static void requireAbsentOrEmpty(Path out) {
        if (Files.exists(out) && !isEmptyDir(out)) {
            throw new LoroException(out + ": already exists and is not empty (choose another output folder or remove it)");
        }
    }

    /**
     * Moves the completed folder {@code tmp} to {@code out} in one rename; {@code out} must be absent or an
     * empty folder (it is replaced).
     */
    public static void publishDirectory(Path tmp, Path out) throws IOException {
        Path abs = out.toAbsolutePath();
        requireAbsentOrEmpty(abs);
        Files.deleteIfExists(abs);
        Files.move(tmp, abs, StandardCopyOption.ATOMIC_MOVE);
    }

    public static boolean isEmptyDir(Path p) {
        if (!Files.isDirectory(p)) {
            return false;
        }
        try (Stream<Path> s = Files.list(p)) {
            return s.findAny().isEmpty();
        } catch (IOException e) {
            return false;
        }
    }

    /** Deletes a file or folder tree, best effort (a leftover temporary name is never read). */
    public static void deleteTree(Path p) {
        if (p == null || !Files.exists(p)) {
            return;
        }
        try (Stream<Path> s = Files.walk(p)) {
            s.sorted(Comparator.reverseOrder()).forEach(f -> f.toFile().delete());
        } catch (IOException ignored) {
            // best effort
        }
    }

    /** Deletes a file or folder tree; any file that cannot be deleted is an IOException. */
    public static void deleteTreeOrFail(Path p) throws IOException {
        if (p == null || !Files.exists(p)) {
            return;
        }
        try (Stream<Path> s = Files.walk(p)) {
            for (Path q : s.sorted(Comparator.reverseOrder()).toList()) {
                Files.delete(q);
            }
        }
    }

    private static void deleteQuietly(Path p) {
        try {
            Files.deleteIfExists(p);
        } catch (IOException ignored) {
            // best effort
        }
    }
}
