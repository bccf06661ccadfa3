package ai.loro.export;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.fail;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Real llama.cpp, through the npm package node-llama-cpp (prebuilt CPU binaries inside the package),
 * installed once into {@code .cache/node-llama-cpp} at the repository root (or LORO_NODE_LLAMA_CPP).
 * Tests using it are skipped when node/npm are not on the machine; with LORO_REQUIRE_LLAMA_CPP=1 (CI)
 * a missing node or a failed install is a failure, not a skip.
 */
final class LlamaCpp {
    private LlamaCpp() {}

    static final String PACKAGE = "node-llama-cpp@3.22.1";
    private static Boolean available;

    /** What llama.cpp computed for one request. */
    record Output(List<float[][]> logProbs, List<long[]> tokens, List<long[]> generated, JsonNode metadata,
                  List<Long> endOfGeneration) {}

    /** One greedy continuation to ask for: {@code max} tokens after {@code ids}. */
    record Greedy(long[] ids, int max) {}

    static Path home() {
        String env = System.getenv("LORO_NODE_LLAMA_CPP");
        if (env != null && !env.isEmpty()) {
            return Path.of(env);
        }
        String root = System.getProperty("loro.root");
        return Path.of(root != null ? root : "..").resolve(".cache/node-llama-cpp").toAbsolutePath().normalize();
    }

    private static boolean required() {
        return "1".equals(System.getenv("LORO_REQUIRE_LLAMA_CPP"));
    }

    /** Skips the calling test unless llama.cpp can run here (installing the package on first use). */
    static synchronized void assumeAvailable() {
        if (available == null) {
            available = install();
        }
        assumeTrue(available, "node/npm or " + PACKAGE + " not available; llama.cpp checks skipped");
    }

    private static boolean install() {
        if (!onPath("node") || !onPath("npm")) {
            if (required()) {
                fail("LORO_REQUIRE_LLAMA_CPP=1 but node/npm are not on the PATH");
            }
            return false;
        }
        Path home = home();
        if (Files.isDirectory(home.resolve("node_modules/node-llama-cpp"))) {
            return true;
        }
        try {
            Files.createDirectories(home);
            if (!Files.exists(home.resolve("package.json"))) {
                Files.writeString(home.resolve("package.json"), "{\"name\": \"loro-llama-cpp-check\", \"private\": true}\n");
            }
            int code = exec(home, 600, "npm", "i", "-E", PACKAGE, "--no-audit", "--no-fund");
            boolean ok = code == 0 && Files.isDirectory(home.resolve("node_modules/node-llama-cpp"));
            if (!ok && required()) {
                fail("npm i " + PACKAGE + " failed in " + home);
            }
            return ok;
        } catch (IOException e) {
            if (required()) {
                fail("cannot install " + PACKAGE + ": " + e.getMessage());
            }
            return false;
        }
    }

    private static boolean onPath(String program) {
        try {
            return exec(Path.of("."), 30, program, "--version") == 0;
        } catch (IOException e) {
            return false;
        }
    }

    private static int exec(Path dir, int timeoutSeconds, String... command) throws IOException {
        Process p = new ProcessBuilder(command).directory(dir.toFile()).redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
        try {
            if (!p.waitFor(timeoutSeconds, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                return -1;
            }
            return p.exitValue();
        } catch (InterruptedException e) {
            p.destroyForcibly();
            Thread.currentThread().interrupt();
            return -1;
        }
    }

    /** Loads {@code model} (with {@code lora} when not null) and evaluates each id sequence and tokenizes each text. */
    static Output run(Path model, Path lora, List<long[]> sequences, List<String> texts) throws IOException {
        return run(model, lora, sequences, texts, List.of());
    }

    static Output run(Path model, Path lora, List<long[]> sequences, List<String> texts, List<Greedy> greedy)
            throws IOException {
        assumeAvailable();
        Path home = home();
        Path script = home.resolve("llama-check.mjs");
        try (var in = LlamaCpp.class.getResourceAsStream("/llama-check.mjs")) {
            Files.copy(in, script, StandardCopyOption.REPLACE_EXISTING);
        }
        Path work = Files.createTempDirectory("loro-llama-cpp");
        ObjectNode req = ExportFixtures.JSON.createObjectNode();
        req.put("model", model.toAbsolutePath().toString());
        req.put("lora", lora == null ? null : lora.toAbsolutePath().toString());
        var seqs = req.putArray("sequences");
        for (long[] s : sequences) {
            var a = seqs.addArray();
            for (long id : s) {
                a.add(id);
            }
        }
        var ts = req.putArray("texts");
        texts.forEach(ts::add);
        var gs = req.putArray("generate");
        for (Greedy g : greedy) {
            var o = gs.addObject();
            var a = o.putArray("ids");
            for (long id : g.ids()) {
                a.add(id);
            }
            o.put("max", g.max());
        }
        Path out = work.resolve("out.json");
        req.put("out", out.toString());
        Path reqFile = work.resolve("req.json");
        ExportFixtures.JSON.writeValue(reqFile.toFile(), req);
        Path log = work.resolve("node.log");
        Process p = new ProcessBuilder("node", script.toString(), reqFile.toString()).directory(home.toFile())
                .redirectErrorStream(true).redirectOutput(log.toFile()).start();
        try {
            if (!p.waitFor(180, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                fail("llama.cpp run timed out");
            }
        } catch (InterruptedException e) {
            p.destroyForcibly();
            throw new IOException(e);
        }
        assertEquals(0, p.exitValue(), () -> "llama.cpp failed: " + read(log));
        JsonNode o = ExportFixtures.JSON.readTree(out.toFile());
        int vocab = o.get("vocab").asInt();
        List<float[][]> lps = new ArrayList<>();
        for (JsonNode seq : o.get("logprobs")) {
            float[][] rows = new float[seq.size()][];
            for (int t = 0; t < seq.size(); t++) {
                ByteBuffer b = ByteBuffer.wrap(Base64.getDecoder().decode(seq.get(t).asText())).order(ByteOrder.LITTLE_ENDIAN);
                rows[t] = new float[vocab];
                b.asFloatBuffer().get(rows[t]);
            }
            lps.add(rows);
        }
        List<Long> eog = new ArrayList<>();
        o.get("eog").forEach(n -> eog.add(n.asLong()));
        return new Output(lps, idLists(o.get("tokens")), idLists(o.get("generated")), o.get("metadata"), eog);
    }

    private static List<long[]> idLists(JsonNode lists) {
        List<long[]> out = new ArrayList<>();
        for (JsonNode t : lists) {
            long[] ids = new long[t.size()];
            for (int i = 0; i < ids.length; i++) {
                ids[i] = t.get(i).asLong();
            }
            out.add(ids);
        }
        return out;
    }

    private static String read(Path p) {
        try {
            String s = Files.readString(p, StandardCharsets.UTF_8);
            return s.length() > 4000 ? s.substring(s.length() - 4000) : s;
        } catch (IOException e) {
            return "(no log)";
        }
    }

    /** max |a - b| over every position and token. */
    static double maxAbsDiff(float[][] a, float[][] b) {
        return maxAbsDiff(a, b, Double.NEGATIVE_INFINITY);
    }

    /** max |a - b| over the positions and tokens where {@code b} (the reference) is at least {@code minLogProb}. */
    static double maxAbsDiff(float[][] a, float[][] b, double minLogProb) {
        assertEquals(a.length, b.length, "positions");
        double d = 0;
        for (int t = 0; t < a.length; t++) {
            assertEquals(a[t].length, b[t].length, "vocabulary size");
            for (int v = 0; v < a[t].length; v++) {
                if (b[t][v] < minLogProb) {
                    continue;
                }
                d = Math.max(d, Math.abs((double) a[t][v] - b[t][v]));
            }
        }
        return d;
    }
}
