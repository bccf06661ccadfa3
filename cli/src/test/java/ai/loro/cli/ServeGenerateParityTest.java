package ai.loro.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.loro.serve.OpenAiServer;
import ai.loro.serve.ServeFixtures;
import ai.loro.serve.ServeOptions;
import com.fasterxml.jackson.databind.JsonNode;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The server's temperature-0 chat answer equals what the real {@code loro generate --chat --temperature 0}
 * command prints for the same files, token for token and as text, for the base model and for an adapter.
 */
class ServeGenerateParityTest {
    @TempDir static Path tmp;
    static Path base;
    static Path adapter;
    static OpenAiServer server;

    static final List<String> PROMPTS = List.of("Hello there", "What is 2 + 2?", "Tell me a story about a cat.");

    @BeforeAll
    static void start() throws Exception {
        base = ServeFixtures.tinyChatModel(tmp, 21);
        adapter = ServeFixtures.adapter(base, tmp.resolve("adapter"), 22, 0.4, "q_proj", "v_proj", "up_proj", "down_proj");
        server = OpenAiServer.start(ServeOptions.defaults(base).withPort(0).withAdapters(Map.of("tuned", adapter)));
    }

    @AfterAll
    static void stop() {
        if (server != null) {
            server.close();
        }
    }

    /** Each prompt's {@code loro generate} output line (completion, tokens, finish_reason), from the CLI entry. */
    static List<JsonNode> generate(Path adapterDir, int maxNewTokens) throws Exception {
        Path in = tmp.resolve("in.jsonl");
        StringBuilder lines = new StringBuilder();
        for (String p : PROMPTS) {
            lines.append("{\"prompt\": ").append(ServeFixtures.quote(p)).append("}\n");
        }
        Files.writeString(in, lines.toString(), StandardCharsets.UTF_8);
        Path out = tmp.resolve("out-" + (adapterDir == null ? "base" : "adapter") + ".jsonl");
        List<String> args = new ArrayList<>(List.of("generate", "--model", base.toString(), "--input", in.toString(),
                "--output", out.toString(), "--chat", "--temperature", "0", "--max-new-tokens", String.valueOf(maxNewTokens)));
        if (adapterDir != null) {
            args.addAll(List.of("--adapter", adapterDir.toString()));
        }
        CliTest.Run r = CliTest.run(args.toArray(new String[0]));
        assertEquals(0, r.code(), r.err());
        List<JsonNode> rows = new ArrayList<>();
        for (String line : Files.readAllLines(out, StandardCharsets.UTF_8)) {
            rows.add(ServeFixtures.JSON.readTree(line));
        }
        assertEquals(PROMPTS.size(), rows.size());
        return rows;
    }

    static List<JsonNode> assertServerEqualsGenerate(String model, Path adapterDir) throws Exception {
        int maxTokens = 24;
        List<JsonNode> expected = generate(adapterDir, maxTokens);
        for (int i = 0; i < PROMPTS.size(); i++) {
            String body = "{\"model\": " + ServeFixtures.quote(model) + ", \"messages\": [{\"role\": \"user\", \"content\": "
                    + ServeFixtures.quote(PROMPTS.get(i)) + "}], \"max_tokens\": " + maxTokens
                    + ", \"temperature\": 0, \"logprobs\": true, \"return_tokens_as_token_ids\": true}";
            ServeFixtures.Response r = ServeFixtures.post(server.port(), "/v1/chat/completions", body);
            assertEquals(200, r.status(), r.body());
            JsonNode choice = r.json().path("choices").path(0);
            JsonNode content = choice.path("logprobs").path("content");
            long[] served = new long[content.size()];
            for (int t = 0; t < served.length; t++) {
                served[t] = Long.parseLong(content.get(t).path("token").asText().substring("token_id:".length()));
            }
            JsonNode want = expected.get(i);
            long[] generated = new long[want.path("tokens").size()];
            for (int t = 0; t < generated.length; t++) {
                generated[t] = want.path("tokens").get(t).asLong();
            }
            String finish = want.path("finish_reason").asText();
            // the server does not list the end-of-turn token that stopped it; loro generate keeps it in "tokens"
            long[] shown = finish.equals("eos") ? java.util.Arrays.copyOf(generated, generated.length - 1) : generated;
            assertTrue(shown.length > 0, model + " prompt " + i + ": an empty answer compares nothing");
            assertArrayEquals(shown, served, model + " prompt " + i);
            assertEquals(want.path("completion").asText(), choice.path("message").path("content").asText(), model + " prompt " + i);
            assertEquals(finish.equals("eos") ? "stop" : finish, choice.path("finish_reason").asText(), model + " prompt " + i);
        }
        return expected;
    }

    @Test
    void baseModelAnswerEqualsLoroGenerate() throws Exception {
        assertServerEqualsGenerate(base.getFileName().toString(), null);
    }

    @Test
    void adapterAnswerEqualsLoroGenerateWithTheAdapter() throws Exception {
        List<JsonNode> tuned = assertServerEqualsGenerate("tuned", adapter);
        List<JsonNode> plain = generate(null, 24);
        boolean differs = false;
        for (int i = 0; i < PROMPTS.size(); i++) {
            differs |= !tuned.get(i).path("tokens").equals(plain.get(i).path("tokens"));
        }
        assertTrue(differs, "the adapter changes no answer, so the adapter case would test nothing");
    }
}
