package ai.loro.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code --model org/name} found in a Hugging Face cache laid out as huggingface_hub writes it (refs/main, snapshot
 * files symlinked into blobs/). Separate JVMs, so the cache location comes from a real environment variable.
 */
class HubModelCliTest {
    @TempDir Path tmp;

    record Proc(int code, String out, String err) {}

    static Proc java(Map<String, String> env, String... args) throws Exception {
        List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-Xss4m", "-cp", System.getProperty("java.class.path"), Main.class.getName()));
        cmd.addAll(List.of(args));
        ProcessBuilder pb = new ProcessBuilder(cmd);
        for (String k : List.of("HF_HUB_CACHE", "HUGGINGFACE_HUB_CACHE", "HF_HOME", "XDG_CACHE_HOME")) {
            pb.environment().remove(k);
        }
        pb.environment().putAll(env);
        Process p = pb.start();
        String out = new String(p.getInputStream().readAllBytes());
        String err = new String(p.getErrorStream().readAllBytes()).strip();
        assertTrue(p.waitFor(180, TimeUnit.SECONDS));
        return new Proc(p.exitValue(), out, err);
    }

    /** hub/models--test-org--tiny with the files of {@code model} as blobs and a main snapshot of symlinks. */
    static Path cache(Path hub, Path model, String commit) throws Exception {
        Path repo = hub.resolve("models--test-org--tiny");
        Path snap = Files.createDirectories(repo.resolve("snapshots").resolve(commit));
        Files.createDirectories(repo.resolve("blobs"));
        Files.createDirectories(repo.resolve("refs"));
        try (Stream<Path> files = Files.list(model)) {
            int i = 0;
            for (Path f : files.filter(Files::isRegularFile).sorted().toList()) {
                String blob = String.format("%064x", ++i);
                Files.copy(f, repo.resolve("blobs").resolve(blob));
                Files.createSymbolicLink(snap.resolve(f.getFileName()), Path.of("../../blobs").resolve(blob));
            }
        }
        Files.writeString(repo.resolve("refs/main"), commit);
        return snap;
    }

    @Test
    void logprobsReadsAHubIdFromTheCacheUnderHfHome() throws Exception {
        Path model = Fixtures.tinyBase(tmp);
        cache(tmp.resolve("hf/hub"), model, "c".repeat(40));
        Path in = tmp.resolve("in.jsonl");
        Files.writeString(in, "{\"input_ids\": [1, 2, 3, 4]}\n");
        CliTest.Run direct = CliTest.run("logprobs", "--model", model.toString(), "--input", in.toString());
        assertEquals(0, direct.code(), direct.err());

        Proc viaHub = java(Map.of("HF_HOME", tmp.resolve("hf").toString()), "logprobs", "--model", "test-org/tiny",
                "--input", in.toString());
        assertEquals(0, viaHub.code(), viaHub.err());
        assertEquals(direct.out().strip(), viaHub.out().strip());
    }

    @Test
    void absentHubIdIsOneLineWithThePathsTriedAndTheDownloadCommand() throws Exception {
        Path hub = Files.createDirectories(tmp.resolve("hub"));
        Proc r = java(Map.of("HF_HUB_CACHE", hub.toString()), "generate", "--model", "meta-llama/Llama-3.2-1B@dev",
                "--prompt", "hi");
        assertEquals(1, r.code(), r.err());
        assertFalse(r.err().contains("\n"), r.err());
        Path cwd = Path.of("").toAbsolutePath();
        assertEquals("error: --model meta-llama/Llama-3.2-1B@dev is not a folder and not in the Hugging Face cache (tried "
                + cwd.resolve("meta-llama/Llama-3.2-1B@dev") + ", " + hub.resolve("models--meta-llama--Llama-3.2-1B")
                + "; cache root from HF_HUB_CACHE); download it with: huggingface-cli download meta-llama/Llama-3.2-1B"
                + " --revision dev (Loro downloads nothing itself)", r.err());
    }
}
