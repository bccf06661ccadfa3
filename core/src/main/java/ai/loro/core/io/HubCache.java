package ai.loro.core.io;

import ai.loro.core.LoroException;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.InvalidPathException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Function;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Model folders given as a path or as a Hugging Face Hub id ({@code org/name}, optionally {@code org/name@revision}),
 * the latter found in the local Hub cache as huggingface_hub lays it out (docs/hub-cache.md): nothing is downloaded.
 * A value is a path first: when it names an existing file or folder (relative ones against a base folder) that is
 * the answer. Otherwise an {@code org/name[@rev]} value is looked up in the cache root, {@code
 * models--org--name/snapshots/<commit>/}, the commit read from {@code refs/<rev>} (default {@code main}) or given
 * as a commit hash. Files in a snapshot are symlinks into {@code blobs/}; every reader follows them. A value that is
 * neither is returned as the path it names, for the caller's own "not found" message.
 *
 * <p>Environment variables are read through a {@code Function<String, String>} (null for unset), so tests pass a map
 * instead of changing the real environment.
 */
public final class HubCache {
    private HubCache() {}

    /** org/name with Hub-valid names (letters, digits, '-', '_', '.'; not starting with '.' or '-'), then @rev. */
    private static final Pattern REPO_ID = Pattern.compile(
            "([A-Za-z0-9][A-Za-z0-9_.-]*)/([A-Za-z0-9][A-Za-z0-9_.-]*)(?:@([A-Za-z0-9][A-Za-z0-9_./-]*))?");
    private static final Pattern COMMIT = Pattern.compile("[0-9a-f]{40}");

    /** A Hub id split into repo and revision (null when not given). */
    public record RepoId(String repo, String revision) {
        /** The cache folder name: {@code models--org--name}. */
        public String folderName() {
            return "models--" + repo.replace("/", "--");
        }

        /** The command that puts this model into the cache. */
        public String downloadCommand() {
            return "huggingface-cli download " + repo + (revision == null ? "" : " --revision " + revision);
        }
    }

    /** The Hub id a value spells, or null when it cannot be one (an absolute path, ./x, ../x, ~/x, one segment). */
    public static RepoId parseRepoId(String value) {
        if (value == null) {
            return null;
        }
        Matcher m = REPO_ID.matcher(value);
        if (!m.matches() || value.contains("..") || m.group(2).endsWith(".") || m.group(1).endsWith(".")) {
            return null;
        }
        return new RepoId(m.group(1) + "/" + m.group(2), m.group(3));
    }

    /** {@link #resolve(String, Path, Function)} against the working folder and the real environment. */
    public static Path resolve(String modelOrPath) {
        return resolve(modelOrPath, Path.of(""), System::getenv);
    }

    /** {@link #resolve(String, Path, Function)} with the real environment. */
    public static Path resolve(String modelOrPath, Path baseDir) {
        return resolve(modelOrPath, baseDir, System::getenv);
    }

    /**
     * The folder {@code modelOrPath} names: an existing path (relative to {@code baseDir}) as it is; else, for a Hub
     * id, its snapshot in the cache; else the path it names (which does not exist). A Hub id absent from the cache
     * throws a {@link LoroException} naming every path tried and the download command; its message reads after
     * "VALUE is " (callers add the option or recipe key and the value).
     */
    public static Path resolve(String modelOrPath, Path baseDir, Function<String, String> env) {
        Path asPath = null;
        try {
            asPath = baseDir.resolve(expandHome(modelOrPath, env)).toAbsolutePath().normalize();
            if (Files.exists(asPath)) {
                return asPath;
            }
        } catch (InvalidPathException e) {
            // not a path; maybe a Hub id
        }
        RepoId id = parseRepoId(modelOrPath);
        if (id == null) {
            if (asPath == null) {
                throw new LoroException("neither a valid path nor a Hugging Face Hub id (org/name or"
                        + " org/name@revision)");
            }
            return asPath;
        }
        List<String> tried = new ArrayList<>();
        if (asPath != null) {
            tried.add(asPath.toString());
        }
        Path root = cacheRoot(env);
        Path repo = root.resolve(id.folderName());
        Path snapshot = snapshot(repo, id.revision() == null ? "main" : id.revision(), tried);
        if (snapshot != null) {
            return snapshot;
        }
        throw new LoroException("not a folder and not in the Hugging Face cache (tried " + String.join(", ", tried)
                + "; cache root from " + rootSource(env) + "); download it with: " + id.downloadCommand()
                + " (Loro downloads nothing itself)");
    }

    /** snapshots/&lt;commit&gt; for a branch/tag in refs/ or a commit hash, or null (paths tried added). */
    private static Path snapshot(Path repo, String revision, List<String> tried) {
        if (!Files.isDirectory(repo)) {
            tried.add(repo.toString());
            return null;
        }
        Path snapshots = repo.resolve("snapshots");
        Path ref;
        try {
            ref = repo.resolve("refs").resolve(revision).normalize();
        } catch (InvalidPathException e) {
            ref = null;
        }
        if (ref != null && ref.startsWith(repo.resolve("refs")) && Files.isRegularFile(ref)) {
            String commit;
            try {
                commit = Files.readString(ref, StandardCharsets.UTF_8).strip();
            } catch (IOException e) {
                throw new LoroException("in the Hugging Face cache, but its ref " + ref + " cannot be read: "
                        + e.getMessage(), e);
            }
            if (!COMMIT.matcher(commit).matches()) {
                throw new LoroException("in the Hugging Face cache, but its ref " + ref + " holds '"
                        + (commit.length() > 60 ? commit.substring(0, 60) + "..." : commit)
                        + "', not a 40-character commit hash");
            }
            Path dir = snapshots.resolve(commit);
            if (Files.isDirectory(dir)) {
                return dir;
            }
            tried.add(dir + " (from " + ref + ")");
            return null;
        }
        if (ref != null) {
            tried.add(ref.toString());
        }
        if (COMMIT.matcher(revision).matches()) {
            Path dir = snapshots.resolve(revision);
            if (Files.isDirectory(dir)) {
                return dir;
            }
            tried.add(dir.toString());
        }
        return null;
    }

    /**
     * The Hub cache root as huggingface_hub chooses it: HF_HUB_CACHE, else the older HUGGINGFACE_HUB_CACHE, else
     * HF_HOME/hub, else XDG_CACHE_HOME/huggingface/hub, else ~/.cache/huggingface/hub (a leading ~ is expanded).
     */
    public static Path cacheRoot(Function<String, String> env) {
        for (String var : new String[] {"HF_HUB_CACHE", "HUGGINGFACE_HUB_CACHE"}) {
            String v = env.apply(var);
            if (v != null && !v.isEmpty()) {
                return Path.of(expandHome(v, env)).toAbsolutePath().normalize();
            }
        }
        String home = env.apply("HF_HOME");
        if (home != null && !home.isEmpty()) {
            return Path.of(expandHome(home, env)).resolve("hub").toAbsolutePath().normalize();
        }
        String xdg = env.apply("XDG_CACHE_HOME");
        Path cache = xdg != null && !xdg.isEmpty() ? Path.of(expandHome(xdg, env)) : userHome(env).resolve(".cache");
        return cache.resolve("huggingface").resolve("hub").toAbsolutePath().normalize();
    }

    private static String rootSource(Function<String, String> env) {
        for (String var : new String[] {"HF_HUB_CACHE", "HUGGINGFACE_HUB_CACHE", "HF_HOME", "XDG_CACHE_HOME"}) {
            String v = env.apply(var);
            if (v != null && !v.isEmpty()) {
                return var;
            }
        }
        return "the default ~/.cache/huggingface/hub: HF_HUB_CACHE and HF_HOME are unset";
    }

    private static Path userHome(Function<String, String> env) {
        String h = env.apply("HOME");
        return Path.of(h != null && !h.isEmpty() ? h : System.getProperty("user.home"));
    }

    private static String expandHome(String p, Function<String, String> env) {
        if (p.equals("~") || p.startsWith("~/")) {
            return userHome(env).resolve(p.equals("~") ? "" : p.substring(2)).toString();
        }
        return p;
    }
}
