package ai.loro.serve;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.loro.core.model.LlamaConfig;
import ai.loro.core.model.LlamaModel;
import ai.loro.core.model.ModelInit;
import ai.loro.core.model.ModelWriter;
import ai.loro.core.tokenizer.TinyTokenizers;
import ai.loro.lora.LoraAdapter;
import ai.loro.lora.LoraConfig;
import ai.loro.lora.Peft;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;

/** Tiny served models (Loro's byte-level ChatML tokenizer) and a java.net.http client for the serve tests. */
public final class ServeFixtures {
    private ServeFixtures() {}

    public static final ObjectMapper JSON = new ObjectMapper();

    /**
     * A random 2-layer model (vocab 264, hidden 32, GQA 4/2 heads, 256 positions) with the byte-level ChatML
     * tokenizer; initializer_range 0.3 so greedy answers are not near ties.
     */
    public static Path tinyChatModel(Path dir, long seed) throws Exception {
        LlamaConfig c = LlamaConfig.parse(JSON.readTree("{\"architectures\":[\"LlamaForCausalLM\"],\"vocab_size\":264,"
                + "\"hidden_size\":32,\"intermediate_size\":64,\"num_hidden_layers\":2,\"num_attention_heads\":4,"
                + "\"num_key_value_heads\":2,\"bos_token_id\":256,\"eos_token_id\":263,\"pad_token_id\":258,"
                + "\"tie_word_embeddings\":true,\"initializer_range\":0.3,\"max_position_embeddings\":256}"), "test config");
        Path tok = dir.resolve("tokenizer-src");
        TinyTokenizers.writeByteLevel(tok, "chatml");
        Path out = dir.resolve("tiny-chat");
        Map<String, float[]> w = ModelInit.randomWeights(c, seed);
        try (LlamaModel m = LlamaModel.fromHost(c, w, DataType.FLOAT32, Device.cpu())) {
            ModelWriter.save(out, c, m.parameters(), "F32", tok);
        }
        return out;
    }

    /** A PEFT adapter over {@code base} with random A and B (N(0, std)), saved to {@code out}. */
    public static Path adapter(Path base, Path out, long seed, double std, String... targets) {
        try (LlamaModel m = LlamaModel.load(base, DataType.FLOAT32, Device.cpu());
             LoraAdapter a = LoraAdapter.create(m, LoraConfig.of(4, 8, 0.0, targets), seed)) {
            Random rng = new Random(seed);
            for (NDArray p : a.parameters().values()) {
                float[] v = new float[(int) p.size()];
                for (int i = 0; i < v.length; i++) {
                    v[i] = (float) (rng.nextGaussian() * std);
                }
                try (NDManager sm = p.getManager().newSubManager()) {
                    p.set(sm.create(v, p.getShape()).toByteBuffer());
                }
            }
            Peft.save(a, out, base.toString(), "CAUSAL_LM");
        }
        return out;
    }

    public record Response(int status, String body, Map<String, List<String>> headers) {
        public JsonNode json() {
            try {
                return JSON.readTree(body);
            } catch (Exception e) {
                throw new AssertionError("not JSON (" + status + "): " + body, e);
            }
        }
    }

    public static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(10)).build();

    public static Response post(int port, String path, String body) throws Exception {
        return send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path))
                .header("Content-Type", "application/json")
                .timeout(Duration.ofSeconds(60))
                .POST(HttpRequest.BodyPublishers.ofString(body, StandardCharsets.UTF_8)).build());
    }

    public static Response get(int port, String path) throws Exception {
        return send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path)).timeout(Duration.ofSeconds(60))
                .GET().build());
    }

    public static Response send(HttpRequest r) throws Exception {
        HttpResponse<String> res = HTTP.send(r, HttpResponse.BodyHandlers.ofString(StandardCharsets.UTF_8));
        return new Response(res.statusCode(), res.body(), res.headers().map());
    }

    /** The JSON objects of a server-sent-event body, up to (not including) {@code [DONE]}; asserts it ends with it. */
    public static List<JsonNode> events(String body) throws Exception {
        List<JsonNode> out = new ArrayList<>();
        boolean done = false;
        for (String block : body.split("\n\n")) {
            if (block.isBlank()) {
                continue;
            }
            if (!block.startsWith("data: ")) {
                throw new AssertionError("not an SSE data line: " + block);
            }
            String data = block.substring(6);
            if (data.equals("[DONE]")) {
                done = true;
                continue;
            }
            if (done) {
                throw new AssertionError("data after [DONE]: " + data);
            }
            out.add(JSON.readTree(data));
        }
        if (!done) {
            throw new AssertionError("stream did not end with data: [DONE]: " + body);
        }
        return out;
    }

    public static String quote(String s) {
        try {
            return JSON.writeValueAsString(s);
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    static boolean exists(Path p) {
        return Files.exists(p);
    }
}
