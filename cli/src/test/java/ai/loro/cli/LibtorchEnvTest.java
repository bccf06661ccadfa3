package ai.loro.cli;

import static org.junit.jupiter.api.Assertions.*;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Running on another libtorch through PYTORCH_LIBRARY_PATH: a folder without libtorch is refused
 * (DJL would silently fall back to the bundled one), and a libtorch DJL's JNI cannot load is one
 * line naming the path, the versions and what to do — not a stack trace.
 */
class LibtorchEnvTest {
    @TempDir Path tmp;

    @Test
    void folderWithoutLibtorchIsRefused() throws Exception {
        assertNull(Main.libtorchPathProblem(null));
        assertNull(Main.libtorchPathProblem(""));
        assertTrue(Main.libtorchPathProblem(tmp.resolve("nope").toString()).contains("is not a folder"));
        String empty = Main.libtorchPathProblem(tmp.toString());
        assertTrue(empty.contains("holds no libtorch.so") && empty.contains("silently"), empty);
        Files.writeString(tmp.resolve("libtorch.so"), "");
        assertNull(Main.libtorchPathProblem(tmp.toString()));
    }

    @Test
    void engineFailuresAreNamedOthersAreNot() {
        String m = Main.engineFailure(new RuntimeException("wrapped", new UnsatisfiedLinkError("libdjl_torch.so: undefined symbol: _ZN3c10")));
        assertNotNull(m);
        assertTrue(m.contains("undefined symbol") && m.contains(Main.JNI_LIBTORCH) && !m.contains("\n"), m);
        assertNull(Main.engineFailure(new IllegalStateException("shape mismatch")));
    }

    /** A separate JVM, since the engine loads once per process: a file that is not a library stands for a foreign libtorch. */
    @Test
    void unloadableLibtorchIsOneLineError() throws Exception {
        Path lib = Files.createDirectories(tmp.resolve("lib"));
        Files.writeString(lib.resolve("libtorch.so"), "not a shared library");
        Path model = Fixtures.tinyBase(tmp);
        Path in = tmp.resolve("in.jsonl");
        Files.writeString(in, "{\"input_ids\": [1, 2, 3]}\n");
        List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-XX:-PrintWarnings", "-cp", System.getProperty("java.class.path"), Main.class.getName(),
                "logprobs", "--model", model.toString(), "--input", in.toString()));
        ProcessBuilder pb = new ProcessBuilder(cmd);
        pb.environment().put("PYTORCH_LIBRARY_PATH", lib.toString());
        pb.environment().put("PYTORCH_VERSION", "2.11.0");
        pb.environment().put("PYTORCH_FLAVOR", "cpu");
        pb.redirectErrorStream(false);
        Process p = pb.start();
        String out = new String(p.getInputStream().readAllBytes());
        String err = new String(p.getErrorStream().readAllBytes()).strip();
        assertTrue(p.waitFor(120, TimeUnit.SECONDS));
        assertEquals(1, p.exitValue(), out + err);
        assertFalse(err.contains("\n"), err);
        assertTrue(err.startsWith("error: DJL could not load libtorch from PYTORCH_LIBRARY_PATH=" + lib)
                && err.contains("PYTORCH_VERSION=2.11.0") && err.contains("built for libtorch 2.7.1"), err);
        assertFalse(out.contains("logprobs"), "nothing computed: " + out);
    }
}
