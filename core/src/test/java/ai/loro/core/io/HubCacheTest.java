package ai.loro.core.io;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.loro.core.LoroException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.function.Function;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Hub ids resolved in a fake Hugging Face cache laid out as huggingface_hub writes it (symlinks into blobs/). */
public class HubCacheTest {
    @TempDir Path tmp;

    public static final String MAIN = "a".repeat(40);
    static final String DEV = "0123456789abcdef0123456789abcdef01234567";

    /**
     * root/models--meta-llama--Llama-3.2-1B: refs/main -> MAIN, refs/dev -> DEV; each snapshot's config.json and
     * tokenizer.json are relative symlinks into blobs/, as huggingface_hub makes them.
     */
    public static Path fakeCache(Path root) throws IOException {
        Path repo = root.resolve("models--meta-llama--Llama-3.2-1B");
        Files.createDirectories(repo.resolve("blobs"));
        Files.createDirectories(repo.resolve("refs"));
        Files.writeString(repo.resolve("blobs/1111"), "{\"model_type\": \"llama\", \"rev\": \"main\"}");
        Files.writeString(repo.resolve("blobs/2222"), "{\"model_type\": \"llama\", \"rev\": \"dev\"}");
        Files.writeString(repo.resolve("blobs/3333"), "{\"version\": \"1.0\"}");
        for (String[] s : new String[][] {{MAIN, "1111"}, {DEV, "2222"}}) {
            Path snap = Files.createDirectories(repo.resolve("snapshots").resolve(s[0]));
            Files.createSymbolicLink(snap.resolve("config.json"), Path.of("../../blobs/" + s[1]));
            Files.createSymbolicLink(snap.resolve("tokenizer.json"), Path.of("../../blobs/3333"));
        }
        Files.writeString(repo.resolve("refs/main"), MAIN); // huggingface_hub writes the hash without a newline
        Files.writeString(repo.resolve("refs/dev"), DEV + "\n");
        return repo;
    }

    private static Function<String, String> env(Map<String, String> vars) {
        return vars::get;
    }

    @Test
    void hubIdResolvesToTheMainSnapshotThroughSymlinks() throws IOException {
        Path repo = fakeCache(tmp.resolve("hub"));
        Path work = Files.createDirectories(tmp.resolve("work"));
        Path dir = HubCache.resolve("meta-llama/Llama-3.2-1B", work, env(Map.of("HF_HUB_CACHE", tmp.resolve("hub").toString())));
        assertEquals(repo.resolve("snapshots").resolve(MAIN), dir);
        assertTrue(Files.isSymbolicLink(dir.resolve("config.json")));
        assertEquals("{\"model_type\": \"llama\", \"rev\": \"main\"}", Files.readString(dir.resolve("config.json")));
        assertTrue(Files.isRegularFile(dir.resolve("tokenizer.json")));
    }

    @Test
    void revisionIsABranchInRefsOrACommitHash() throws IOException {
        Path repo = fakeCache(tmp.resolve("hub"));
        Function<String, String> e = env(Map.of("HF_HUB_CACHE", tmp.resolve("hub").toString()));
        assertEquals(repo.resolve("snapshots").resolve(DEV), HubCache.resolve("meta-llama/Llama-3.2-1B@dev", tmp, e));
        assertEquals(repo.resolve("snapshots").resolve(DEV), HubCache.resolve("meta-llama/Llama-3.2-1B@" + DEV, tmp, e));
        assertEquals(repo.resolve("snapshots").resolve(MAIN), HubCache.resolve("meta-llama/Llama-3.2-1B@main", tmp, e));
        assertTrue(Files.readString(HubCache.resolve("meta-llama/Llama-3.2-1B@dev", tmp, e).resolve("config.json"))
                .contains("\"dev\""));
    }

    @Test
    void cacheRootFollowsHuggingfaceHubOrder() {
        assertEquals(Path.of("/c/a"), HubCache.cacheRoot(env(Map.of("HF_HUB_CACHE", "/c/a", "HUGGINGFACE_HUB_CACHE", "/c/b",
                "HF_HOME", "/h"))));
        assertEquals(Path.of("/c/b"), HubCache.cacheRoot(env(Map.of("HUGGINGFACE_HUB_CACHE", "/c/b", "HF_HOME", "/h"))));
        assertEquals(Path.of("/h/hub"), HubCache.cacheRoot(env(Map.of("HF_HOME", "/h", "XDG_CACHE_HOME", "/x"))));
        assertEquals(Path.of("/x/huggingface/hub"), HubCache.cacheRoot(env(Map.of("XDG_CACHE_HOME", "/x", "HOME", "/u"))));
        assertEquals(Path.of("/u/.cache/huggingface/hub"), HubCache.cacheRoot(env(Map.of("HOME", "/u"))));
        assertEquals(Path.of("/u/hf/hub"), HubCache.cacheRoot(env(Map.of("HF_HOME", "~/hf", "HOME", "/u"))));
        assertEquals(Path.of("/u/.cache/huggingface/hub"), HubCache.cacheRoot(env(Map.of("HF_HUB_CACHE", "", "HOME", "/u"))));
    }

    @Test
    void hfHomeIsUsedWhenHubCacheIsUnset() throws IOException {
        Path repo = fakeCache(tmp.resolve("home/hub"));
        assertEquals(repo.resolve("snapshots").resolve(MAIN), HubCache.resolve("meta-llama/Llama-3.2-1B", tmp,
                env(Map.of("HF_HOME", tmp.resolve("home").toString()))));
    }

    @Test
    void anExistingPathWinsOverTheCache() throws IOException {
        fakeCache(tmp.resolve("hub"));
        Path local = Files.createDirectories(tmp.resolve("work/meta-llama/Llama-3.2-1B"));
        assertEquals(local, HubCache.resolve("meta-llama/Llama-3.2-1B", tmp.resolve("work"),
                env(Map.of("HF_HUB_CACHE", tmp.resolve("hub").toString()))));
    }

    @Test
    void absentModelIsOneLineNamingEveryPathTriedAndTheDownloadCommand() throws IOException {
        Path hub = Files.createDirectories(tmp.resolve("hub"));
        Function<String, String> e = env(Map.of("HF_HUB_CACHE", hub.toString()));
        LoroException x = assertThrows(LoroException.class, () -> HubCache.resolve("Qwen/Qwen3-0.6B", tmp, e));
        assertEquals("not a folder and not in the Hugging Face cache (tried " + tmp.resolve("Qwen/Qwen3-0.6B") + ", "
                + hub.resolve("models--Qwen--Qwen3-0.6B") + "; cache root from HF_HUB_CACHE); download it with:"
                + " huggingface-cli download Qwen/Qwen3-0.6B (Loro downloads nothing itself)", x.getMessage());

        Path repo = fakeCache(hub);
        x = assertThrows(LoroException.class, () -> HubCache.resolve("meta-llama/Llama-3.2-1B@v2", tmp, e));
        assertEquals("not a folder and not in the Hugging Face cache (tried " + tmp.resolve("meta-llama/Llama-3.2-1B@v2")
                + ", " + repo.resolve("refs/v2") + "; cache root from HF_HUB_CACHE); download it with: huggingface-cli"
                + " download meta-llama/Llama-3.2-1B --revision v2 (Loro downloads nothing itself)", x.getMessage());
        assertFalse(x.getMessage().contains("\n"));

        Files.writeString(repo.resolve("refs/main"), "b".repeat(40));
        x = assertThrows(LoroException.class, () -> HubCache.resolve("meta-llama/Llama-3.2-1B", tmp, e));
        assertTrue(x.getMessage().contains("tried " + tmp.resolve("meta-llama/Llama-3.2-1B") + ", "
                + repo.resolve("snapshots").resolve("b".repeat(40)) + " (from " + repo.resolve("refs/main") + ")"),
                x.getMessage());

        Files.writeString(repo.resolve("refs/main"), "<html>");
        x = assertThrows(LoroException.class, () -> HubCache.resolve("meta-llama/Llama-3.2-1B", tmp, e));
        assertEquals("in the Hugging Face cache, but its ref " + repo.resolve("refs/main") + " holds '<html>', not a"
                + " 40-character commit hash", x.getMessage());
    }

    @Test
    void onlyOrgSlashNameIsAHubId() {
        assertEquals(new HubCache.RepoId("meta-llama/Llama-3.2-1B", null), HubCache.parseRepoId("meta-llama/Llama-3.2-1B"));
        assertEquals(new HubCache.RepoId("org/m.v1_x", "refs/pr/1"), HubCache.parseRepoId("org/m.v1_x@refs/pr/1"));
        for (String notId : new String[] {"gpt2", "../runs/x", "./org/x", "/abs/x", "~/x", "a/b/c", "org/.x", "org/x.",
                "org/../x", "org/x@"}) {
            assertNull(HubCache.parseRepoId(notId), notId);
        }
        // Not Hub ids and not there: the path itself, for the caller's own message.
        assertEquals(tmp.resolve("runs/x"), HubCache.resolve("../runs/x", tmp.resolve("sub"), env(Map.of())));
    }
}
