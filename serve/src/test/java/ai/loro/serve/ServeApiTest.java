package ai.loro.serve;

import static ai.loro.serve.ServeFixtures.get;
import static ai.loro.serve.ServeFixtures.post;
import static ai.loro.serve.ServeFixtures.quote;
import static org.junit.jupiter.api.Assertions.*;

import ai.djl.Device;
import ai.djl.ndarray.types.DataType;
import ai.loro.core.generate.Generator;
import ai.loro.core.generate.SamplingParams;
import ai.loro.core.model.LlamaModel;
import ai.loro.core.tokenizer.ChatMessage;
import ai.loro.core.tokenizer.LoroTokenizer;
import ai.loro.core.tokenizer.StopTokens;
import ai.loro.lora.Peft;
import com.fasterxml.jackson.databind.JsonNode;
import java.io.InputStream;
import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A running server on a random port, driven by java.net.http: its answers are compared with {@link Generator}
 * (what {@code loro generate} runs) on the same files, alone and in a busy batch.
 */
class ServeApiTest {
    @TempDir static Path tmp;
    static Path base;
    static Path adapterA;
    static Path adapterB;
    static Path root;
    static OpenAiServer server;
    static int port;

    @BeforeAll
    static void start() throws Exception {
        base = ServeFixtures.tinyChatModel(tmp, 7);
        root = tmp.resolve("adapters");
        adapterA = ServeFixtures.adapter(base, root.resolve("a"), 11, 0.4, "q_proj", "v_proj", "down_proj");
        adapterB = ServeFixtures.adapter(base, root.resolve("b"), 12, 0.4, "q_proj", "k_proj", "o_proj", "up_proj");
        ServeFixtures.adapter(base, root.resolve("c"), 13, 0.4, "gate_proj", "v_proj");
        server = OpenAiServer.start(ServeOptions.defaults(base).withPort(0)
                .withAdapters(Map.of("alpha", adapterA, "beta", adapterB))
                .withRuntimeLora(true, root).withLimits(16, 256, 64 * 1024));
        port = server.port();
    }

    @AfterAll
    static void stop() {
        if (server != null) {
            server.close();
        }
    }

    /** The reference: Generator over a freshly loaded model (with the adapter attached), chat-rendered prompt. */
    static long[] reference(Path adapter, String user, int maxTokens, double temperature, long seed) {
        try (LlamaModel m = LlamaModel.load(base, DataType.FLOAT32, Device.cpu()); LoroTokenizer tok = LoroTokenizer.load(base)) {
            if (adapter != null) {
                Peft.load(adapter, m).attach(m);
            }
            String rendered = tok.applyChatTemplate(List.of(ChatMessage.user(user)), true);
            long[] prompt = tok.encode(rendered, false);
            Set<Long> eos = new LinkedHashSet<>(m.config().eosTokenIds());
            eos.add(tok.eosId());
            eos.addAll(StopTokens.ids(tok));
            Generator g = new Generator(m, eos, ids -> tok.decode(ids, true));
            return g.generate(List.of(prompt), new SamplingParams(maxTokens, temperature, 0, 1.0, seed, List.of(), true))
                    .get(0).tokens();
        }
    }

    static String chatBody(String model, String user, int maxTokens, double temperature, long seed, String extra) {
        return "{\"model\": " + quote(model) + ", \"messages\": [{\"role\": \"user\", \"content\": " + quote(user) + "}],"
                + " \"max_tokens\": " + maxTokens + ", \"temperature\": " + temperature + ", \"seed\": " + seed
                + ", \"logprobs\": true, \"return_tokens_as_token_ids\": true" + extra + "}";
    }

    /** The token ids of choice 0, from its logprobs ("token_id:N"). */
    static long[] tokens(JsonNode response) {
        JsonNode content = response.path("choices").path(0).path("logprobs").path("content");
        long[] ids = new long[content.size()];
        for (int i = 0; i < ids.length; i++) {
            ids[i] = Long.parseLong(content.get(i).path("token").asText().substring("token_id:".length()));
        }
        return ids;
    }

    static long[] chatTokens(String model, String user, int maxTokens, double temperature, long seed) throws Exception {
        ServeFixtures.Response r = post(port, "/v1/chat/completions", chatBody(model, user, maxTokens, temperature, seed, ""));
        assertEquals(200, r.status(), r.body());
        return tokens(r.json());
    }

    @Test
    void modelsListsBaseAndAdaptersWithParent() throws Exception {
        JsonNode m = get(port, "/v1/models").json();
        assertEquals("list", m.path("object").asText());
        List<String> ids = new ArrayList<>();
        for (JsonNode d : m.path("data")) {
            ids.add(d.path("id").asText());
            assertEquals("model", d.path("object").asText());
            assertEquals(256, d.path("max_model_len").asInt());
            if (d.path("id").asText().equals("tiny-chat")) {
                assertTrue(d.path("parent").isNull(), d.toString());
            } else {
                assertEquals("tiny-chat", d.path("parent").asText(), d.toString());
            }
        }
        assertTrue(ids.containsAll(List.of("tiny-chat", "alpha", "beta")), ids.toString());
        assertEquals("tiny-chat", ids.get(0));
        assertEquals(200, get(port, "/health").status());
    }

    @Test
    void greedyChatEqualsGeneratorForBaseAndAdapters() throws Exception {
        for (String model : List.of("tiny-chat", "alpha", "beta")) {
            Path adapter = model.equals("alpha") ? adapterA : model.equals("beta") ? adapterB : null;
            long[] expected = reference(adapter, "Hello there, who are you?", 20, 0, 0);
            ServeFixtures.Response r = post(port, "/v1/chat/completions",
                    chatBody(model, "Hello there, who are you?", 20, 0, 0, ""));
            assertEquals(200, r.status(), r.body());
            JsonNode j = r.json();
            assertArrayEquals(expected, tokens(j), model);
            assertEquals("chat.completion", j.path("object").asText());
            assertEquals(model, j.path("model").asText());
            assertEquals(expected.length, j.path("usage").path("completion_tokens").asInt());
            int promptTokens = j.path("usage").path("prompt_tokens").asInt();
            assertEquals(promptTokens + expected.length, j.path("usage").path("total_tokens").asInt());
            String finish = j.path("choices").path(0).path("finish_reason").asText();
            assertEquals(expected.length < 20 ? "stop" : "length", finish);
            try (LoroTokenizer tok = LoroTokenizer.load(base)) {
                long[] shown = finish.equals("stop") ? java.util.Arrays.copyOf(expected, expected.length - 1) : expected;
                assertEquals(tok.decode(shown, true), j.path("choices").path(0).path("message").path("content").asText());
            }
        }
        // the adapters change the answer (else the per-row routing would be untested)
        assertFalse(java.util.Arrays.equals(chatTokens("tiny-chat", "Hi", 12, 0, 0), chatTokens("alpha", "Hi", 12, 0, 0)));
    }

    @Test
    void seededSamplingEqualsGeneratorAndNGivesSeparateStreams() throws Exception {
        long[] expected = reference(adapterB, "Tell me a story", 16, 0.9, 42);
        assertArrayEquals(expected, chatTokens("beta", "Tell me a story", 16, 0.9, 42));
        ServeFixtures.Response r = post(port, "/v1/chat/completions",
                chatBody("beta", "Tell me a story", 16, 0.9, 42, ", \"n\": 3"));
        JsonNode j = r.json();
        assertEquals(3, j.path("choices").size(), r.body());
        assertArrayEquals(expected, tokens(j)); // choice 0 draws from the seed itself, as generate's row 0
        assertNotEquals(j.path("choices").path(1).path("message").path("content").asText(),
                j.path("choices").path(2).path("message").path("content").asText());
    }

    @Test
    void streamedChunksConcatenateToTheWholeAnswer() throws Exception {
        String body = "{\"model\": \"alpha\", \"messages\": [{\"role\": \"system\", \"content\": \"Be brief.\"},"
                + " {\"role\": \"user\", \"content\": \"Write something\"}], \"max_tokens\": 40, \"temperature\": 0.8,"
                + " \"seed\": 5";
        JsonNode whole = post(port, "/v1/chat/completions", body + "}").json();
        ServeFixtures.Response s = post(port, "/v1/chat/completions", body
                + ", \"stream\": true, \"stream_options\": {\"include_usage\": true}}");
        assertEquals(200, s.status());
        assertTrue(s.headers().get("content-type").get(0).startsWith("text/event-stream"), s.headers().toString());
        List<JsonNode> chunks = ServeFixtures.events(s.body());
        StringBuilder text = new StringBuilder();
        String finish = null;
        String id = chunks.get(0).path("id").asText();
        assertEquals("assistant", chunks.get(0).path("choices").path(0).path("delta").path("role").asText());
        for (int i = 0; i < chunks.size() - 1; i++) {
            JsonNode c = chunks.get(i);
            assertEquals(id, c.path("id").asText());
            assertEquals("chat.completion.chunk", c.path("object").asText());
            assertTrue(c.has("usage") && c.path("usage").isNull(), c.toString());
            JsonNode choice = c.path("choices").path(0);
            text.append(choice.path("delta").path("content").asText(""));
            if (!choice.path("finish_reason").isNull()) {
                finish = choice.path("finish_reason").asText();
            }
        }
        JsonNode last = chunks.get(chunks.size() - 1);
        assertEquals(0, last.path("choices").size(), last.toString());
        assertEquals(whole.path("usage"), last.path("usage"));
        assertEquals(whole.path("choices").path(0).path("message").path("content").asText(), text.toString());
        assertEquals(whole.path("choices").path(0).path("finish_reason").asText(), finish);

        // completions: the same for a text prompt
        String cb = "{\"model\": \"tiny-chat\", \"prompt\": \"Once upon\", \"max_tokens\": 30, \"temperature\": 0}";
        JsonNode cw = post(port, "/v1/completions", cb).json();
        assertEquals("text_completion", cw.path("object").asText());
        StringBuilder ct = new StringBuilder();
        for (JsonNode c : ServeFixtures.events(post(port, "/v1/completions", cb.replace("}", ", \"stream\": true}")).body())) {
            ct.append(c.path("choices").path(0).path("text").asText(""));
        }
        assertEquals(cw.path("choices").path(0).path("text").asText(), ct.toString());
    }

    @Test
    void sixteenConcurrentRequestsOverTwoAdaptersEachEqualItsSoloAnswer() throws Exception {
        String[] models = {"tiny-chat", "alpha", "beta"};
        List<String> bodies = new ArrayList<>();
        for (int i = 0; i < 16; i++) {
            String model = models[i % 3];
            double t = i % 2 == 0 ? 0 : 1.0;
            bodies.add(chatBody(model, "Question number " + i + (i % 4 == 0 ? " with a longer prompt than most" : ""),
                    8 + (i * 5) % 17, t, 100 + i, ""));
        }
        List<long[]> solo = new ArrayList<>();
        for (String b : bodies) {
            ServeFixtures.Response r = post(port, "/v1/chat/completions", b);
            assertEquals(200, r.status(), r.body());
            solo.add(tokens(r.json()));
        }
        ExecutorService pool = Executors.newFixedThreadPool(16);
        try {
            List<Future<ServeFixtures.Response>> fs = new ArrayList<>();
            for (String b : bodies) {
                fs.add(pool.submit(() -> post(port, "/v1/chat/completions", b)));
            }
            for (int i = 0; i < 16; i++) {
                ServeFixtures.Response r = fs.get(i).get();
                assertEquals(200, r.status(), r.body());
                assertArrayEquals(solo.get(i), tokens(r.json()), "request " + i + " in the busy batch");
            }
        } finally {
            pool.shutdownNow();
        }
        // and the solo answers of two of them are Generator's
        assertArrayEquals(reference(adapterA, "Question number 1", 8 + 5, 1.0, 101), solo.get(1));
        assertArrayEquals(reference(null, "Question number 0 with a longer prompt than most", 8, 0, 100), solo.get(0));
    }

    @Test
    void runtimeLoadAndUnload() throws Exception {
        ServeFixtures.Response outside = post(port, "/v1/load_lora_adapter",
                "{\"lora_name\": \"x\", \"lora_path\": " + quote(base.toString()) + "}");
        assertEquals(400, outside.status(), outside.body());
        assertEquals("lora_path", outside.json().path("error").path("param").asText());
        ServeFixtures.Response ok = post(port, "/v1/load_lora_adapter",
                "{\"lora_name\": \"gamma\", \"lora_path\": " + quote(root.resolve("c").toString()) + "}");
        assertEquals(200, ok.status(), ok.body());
        assertTrue(ok.body().contains("gamma"));
        assertEquals(400, post(port, "/v1/load_lora_adapter",
                "{\"lora_name\": \"gamma\", \"lora_path\": \"c\"}").status()); // already loaded
        assertTrue(get(port, "/v1/models").body().contains("\"gamma\""));
        assertArrayEquals(reference(root.resolve("c"), "Hi", 10, 0, 0), chatTokens("gamma", "Hi", 10, 0, 0));
        assertEquals(200, post(port, "/v1/unload_lora_adapter", "{\"lora_name\": \"gamma\"}").status());
        assertEquals(404, post(port, "/v1/chat/completions", chatBody("gamma", "Hi", 4, 0, 0, "")).status());
        assertEquals(404, post(port, "/v1/unload_lora_adapter", "{\"lora_name\": \"gamma\"}").status());
        assertFalse(get(port, "/v1/models").body().contains("\"gamma\""));
        assertArrayEquals(reference(adapterA, "Hi", 10, 0, 0), chatTokens("alpha", "Hi", 10, 0, 0));
    }

    static void assertError(int status, String param, ServeFixtures.Response r) {
        assertEquals(status, r.status(), r.body());
        JsonNode e = r.json().path("error");
        assertTrue(e.path("message").isTextual() && !e.path("message").asText().isEmpty(), r.body());
        assertTrue(e.has("type") && e.has("param") && e.has("code"), r.body());
        assertEquals(status, e.path("code").asInt(), r.body());
        if (param != null) {
            assertEquals(param, e.path("param").asText(), r.body());
        }
    }

    @Test
    void everyBadRequestGetsItsStatusAndTheServerStaysCorrect() throws Exception {
        long[] before = chatTokens("alpha", "Still fine?", 12, 0, 0);
        String chat = "/v1/chat/completions";
        assertError(400, null, post(port, chat, "{not json"));
        assertError(400, null, post(port, chat, "[1, 2]"));
        assertError(400, null, post(port, chat, ""));
        assertError(400, "messages", post(port, chat, "{\"model\": \"alpha\"}"));
        assertError(400, "messages", post(port, chat, "{\"messages\": []}"));
        assertError(400, "messages[0].role", post(port, chat, "{\"messages\": [{\"role\": \"wizard\", \"content\": \"x\"}]}"));
        String m = "\"messages\": [{\"role\": \"user\", \"content\": \"x\"}]";
        for (String[] c : List.of(
                new String[] {"temperature", "\"temperature\": 5"},
                new String[] {"temperature", "\"temperature\": \"hot\""},
                new String[] {"top_p", "\"top_p\": 0"},
                new String[] {"n", "\"n\": 0"},
                new String[] {"n", "\"n\": 1000"},
                new String[] {"max_tokens", "\"max_tokens\": 0"},
                new String[] {"max_tokens", "\"max_tokens\": 100000"},
                new String[] {"max_completion_tokens", "\"max_completion_tokens\": 1.5"},
                new String[] {"seed", "\"seed\": \"x\""},
                new String[] {"stop", "\"stop\": 3"},
                new String[] {"stop", "\"stop\": [\"\"]"},
                new String[] {"stream", "\"stream\": \"yes\""},
                new String[] {"stream_options", "\"stream_options\": {\"include_usage\": true}"},
                new String[] {"top_logprobs", "\"top_logprobs\": 3"},
                new String[] {"top_logprobs", "\"logprobs\": true, \"top_logprobs\": 21"},
                new String[] {"tools", "\"tools\": [{\"type\": \"function\"}]"},
                new String[] {"logit_bias", "\"logit_bias\": {\"5\": 10}"},
                new String[] {"model", "\"model\": 3"})) {
            assertError(400, c[0], post(port, chat, "{" + m + ", " + c[1] + "}"));
        }
        assertError(400, "prompt", post(port, "/v1/completions", "{\"prompt\": [1, 99999]}"));
        assertError(400, "prompt", post(port, "/v1/completions", "{\"prompt\": {}}"));
        assertError(400, "logprobs", post(port, "/v1/completions", "{\"prompt\": \"x\", \"logprobs\": 50}"));
        assertError(404, "model", post(port, chat, "{\"model\": \"nope\", " + m + "}"));
        assertError(404, null, get(port, "/v1/nothing-here"));
        assertError(413, null, post(port, chat, "{" + m + ", \"user\": " + quote("x".repeat(70 * 1024)) + "}"));
        assertArrayEquals(before, chatTokens("alpha", "Still fine?", 12, 0, 0));
    }

    @Test
    void aClientThatDisconnectsFreesItsRow() throws Exception {
        HttpRequest req = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/v1/completions"))
                .header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString("{\"prompt\": \"go\", \"max_tokens\": 250, \"stream\": true,"
                        + " \"ignore_eos\": true, \"temperature\": 1}")).build();
        HttpResponse<InputStream> res = ServeFixtures.HTTP.send(req, HttpResponse.BodyHandlers.ofInputStream());
        try (InputStream in = res.body()) {
            assertTrue(in.read(new byte[64]) > 0);
            assertEquals(1, server.running());
        }
        long until = System.currentTimeMillis() + 20_000;
        while (server.running() > 0 && System.currentTimeMillis() < until) {
            Thread.sleep(20);
        }
        assertEquals(0, server.running(), "the disconnected stream's row was not freed");
    }

    @Test
    void stopStringsCutTheAnswerAndEndWithStop() throws Exception {
        JsonNode free = post(port, "/v1/completions", "{\"prompt\": \"abc\", \"max_tokens\": 30, \"temperature\": 0}").json();
        String text = free.path("choices").path(0).path("text").asText();
        assertTrue(text.length() >= 6, text);
        String stop = text.substring(3, 5);
        int at = text.indexOf(stop);
        JsonNode cut = post(port, "/v1/completions", "{\"prompt\": \"abc\", \"max_tokens\": 30, \"temperature\": 0,"
                + " \"stop\": [" + quote(stop) + "]}").json();
        assertEquals(text.substring(0, at), cut.path("choices").path(0).path("text").asText());
        assertEquals("stop", cut.path("choices").path(0).path("finish_reason").asText());
        StringBuilder streamed = new StringBuilder();
        for (JsonNode c : ServeFixtures.events(post(port, "/v1/completions", "{\"prompt\": \"abc\", \"max_tokens\": 30,"
                + " \"temperature\": 0, \"stream\": true, \"stop\": " + quote(stop) + "}").body())) {
            streamed.append(c.path("choices").path(0).path("text").asText(""));
        }
        assertEquals(text.substring(0, at), streamed.toString());
    }

    static boolean unused(Path p) {
        return Files.exists(p);
    }
}
