package ai.loro.serve;

import static org.junit.jupiter.api.Assertions.*;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Real clients against a running server: the official {@code openai} npm client, and the chat page in Debian's
 * headless chromium driven by {@code puppeteer-core}. The npm packages live in {@code .cache/serve-npm} (installed
 * by .ci/run; LORO_SERVE_NPM overrides); absent tools skip with the reason, unless LORO_REQUIRE_SERVE_CLIENTS is set.
 */
class NodeClientsTest {
    @TempDir static Path tmp;
    static OpenAiServer server;
    static String url;

    static Path modules() {
        String env = System.getenv("LORO_SERVE_NPM");
        Path dir = env != null ? Path.of(env) : Path.of(System.getProperty("loro.root", "..")).resolve(".cache/serve-npm");
        return dir.resolve("node_modules");
    }

    static void need(boolean present, String what) {
        if (!present && System.getenv("LORO_REQUIRE_SERVE_CLIENTS") != null) {
            fail(what + " is missing and LORO_REQUIRE_SERVE_CLIENTS is set (run .ci/run to install it)");
        }
        Assumptions.assumeTrue(present, what + " is missing: skipped (.ci/run installs it)");
    }

    @BeforeAll
    static void start() throws Exception {
        Path base = ServeFixtures.tinyChatModel(tmp, 21);
        Path a = ServeFixtures.adapter(base, tmp.resolve("adapters/helper"), 5, 0.4, "q_proj", "v_proj", "up_proj");
        server = OpenAiServer.start(ServeOptions.defaults(base).withPort(0).withAdapters(Map.of("helper", a)));
        url = "http://127.0.0.1:" + server.port();
    }

    @AfterAll
    static void stop() {
        if (server != null) {
            server.close();
        }
    }

    static JsonNode node(String script, String... args) throws Exception {
        Path js = tmp.resolve(script);
        try (InputStream in = NodeClientsTest.class.getResourceAsStream(script)) {
            Files.write(js, in.readAllBytes());
        }
        List<String> cmd = new ArrayList<>(List.of("node", js.toString()));
        cmd.addAll(List.of(args));
        ProcessBuilder pb = new ProcessBuilder(cmd);
        pb.environment().put("LORO_NPM_MODULES", modules().toString());
        Path err = tmp.resolve(script + ".err");
        pb.redirectError(err.toFile());
        Process p = pb.start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(60, TimeUnit.SECONDS), script + " did not finish");
        assertEquals(0, p.exitValue(), script + ": " + Files.readString(err));
        return ServeFixtures.JSON.readTree(out.lines().filter(l -> l.startsWith("{")).reduce((x, y) -> y).orElseThrow());
    }

    static boolean nodeWorks() {
        try {
            return new ProcessBuilder("node", "--version").start().waitFor() == 0;
        } catch (Exception e) {
            return false;
        }
    }

    @Test
    void officialOpenAiClient() throws Exception {
        need(nodeWorks() && Files.isDirectory(modules().resolve("openai")), "node with the openai npm package");
        JsonNode r = node("openai-client.cjs", url + "/v1", "helper");
        assertEquals("tiny-chat", r.path("models").path(0).path("id").asText(), r.toString());
        assertEquals("tiny-chat", r.path("models").path(1).path("parent").asText(), r.toString());
        JsonNode direct = ServeFixtures.post(server.port(), "/v1/chat/completions", "{\"model\": \"helper\", \"messages\":"
                + " [{\"role\": \"system\", \"content\": \"You are terse.\"}, {\"role\": \"user\", \"content\": \"Say hi\"}],"
                + " \"temperature\": 0, \"max_tokens\": 24}").json();
        String content = direct.path("choices").path(0).path("message").path("content").asText();
        assertEquals(content, r.path("chat").path("content").asText());
        assertEquals(content, r.path("stream").path("content").asText());
        assertEquals(r.path("chat").path("usage"), r.path("streamUsage"));
        assertTrue(r.path("stream").path("chunks").asInt() >= 2, r.toString());
        assertFalse(r.path("completion").path("text").asText().isEmpty(), r.toString());
        assertEquals(404, r.path("error").path("status").asInt(), r.toString());
        assertTrue(r.path("error").path("message").asText().contains("no-such-model"), r.toString());
        assertEquals(400, r.path("badField").path("status").asInt(), r.toString());
        assertEquals("temperature", r.path("badField").path("param").asText(), r.toString());
    }

    @Test
    void chatPageInHeadlessChromium() throws Exception {
        Path chromium = Path.of(System.getenv().getOrDefault("CHROMIUM", "/usr/bin/chromium"));
        need(nodeWorks() && Files.isDirectory(modules().resolve("puppeteer-core")) && Files.isExecutable(chromium),
                "node + puppeteer-core + chromium (" + chromium + ")");
        Path shot = Path.of(System.getProperty("loro.root", "..")).resolve("serve/target/chat-page.png");
        Files.createDirectories(shot.getParent());
        JsonNode r = node("chat-page.cjs", url + "/", "helper", "Hello from the browser", shot.toString());
        assertEquals(0, r.path("consoleErrors").size(), r.toString());
        assertEquals("[\"tiny-chat\",\"helper\"]", r.path("options").toString());
        assertEquals("msg assistant", r.path("answer").path("cls").asText(), r.toString());
        JsonNode direct = ServeFixtures.post(server.port(), "/v1/chat/completions", "{\"model\": \"helper\", \"messages\":"
                + " [{\"role\": \"user\", \"content\": \"Hello from the browser\"}], \"temperature\": 0, \"top_p\": 1,"
                + " \"max_tokens\": 40}").json();
        assertEquals(direct.path("choices").path(0).path("message").path("content").asText(),
                r.path("answer").path("text").asText());
        assertTrue(r.path("partials").asInt() >= 2, "the answer did not stream in: " + r);
        assertTrue(Files.size(shot) > 1000);
    }
}
