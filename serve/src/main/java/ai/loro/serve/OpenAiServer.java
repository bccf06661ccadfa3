package ai.loro.serve;

import ai.djl.Device;
import ai.djl.ndarray.types.DataType;
import ai.loro.core.LoroException;
import ai.loro.core.model.GenerationConfig;
import ai.loro.core.model.LlamaModel;
import ai.loro.core.tokenizer.LoroTokenizer;
import ai.loro.core.tokenizer.StopTokens;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.javalin.Javalin;
import io.javalin.http.Context;
import io.javalin.http.HttpResponseException;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashSet;
import java.util.Map;
import java.util.Set;

/**
 * {@code loro serve}: the OpenAI-compatible HTTP API (vLLM's flavour) over one base model and its LoRA adapters,
 * on Javalin; a chat page at {@code /}. Generation runs on the {@link Scheduler}'s thread.
 */
public final class OpenAiServer implements AutoCloseable {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String PAGE = "/ai/loro/serve/chat.html";

    private final ServeOptions options;
    private final LlamaModel model;
    private final LoroTokenizer tokenizer;
    private final Scheduler scheduler;
    private final Catalog catalog;
    private final RequestParser parser;
    private final GenerationHandler generation;
    private final int maxModelLen;
    private final Javalin app;

    private OpenAiServer(ServeOptions options, LlamaModel model, LoroTokenizer tokenizer) {
        this.options = options;
        this.model = model;
        this.tokenizer = tokenizer;
        int positions = model.config().maxPositionEmbeddings();
        this.maxModelLen = options.maxModelLen() > 0 ? Math.min(options.maxModelLen(), positions) : positions;
        this.scheduler = new Scheduler(model, ids -> tokenizer.decode(ids, true), options.maxBatch(), options.maxQueue(),
                maxModelLen, options.adapterBatching().equals("grouped"));
        String baseId = options.servedModelName() != null ? options.servedModelName()
                : options.model().toAbsolutePath().normalize().getFileName().toString();
        this.catalog = new Catalog(baseId, model, scheduler);
        scheduler.setHousekeeping(catalog::closeRetired);
        GenerationConfig gen = GenerationConfig.read(options.model(), model.config().vocabSize());
        Set<Long> eos = new LinkedHashSet<>(model.config().eosTokenIds());
        if (tokenizer.eosId() != null) {
            eos.add(tokenizer.eosId());
        }
        if (gen != null) {
            eos.addAll(gen.eosTokenIds());
        }
        Set<Long> chatStops = new LinkedHashSet<>(StopTokens.ids(tokenizer));
        this.parser = new RequestParser(tokenizer, catalog::resolve, eos, chatStops, gen, maxModelLen, options.maxBatch(),
                model.config().vocabSize());
        this.generation = new GenerationHandler(scheduler, tokenizer);
        this.app = Javalin.create(cfg -> {
            cfg.showJavalinBanner = false;
            cfg.http.disableCompression();
            cfg.http.maxRequestSize = options.maxBodyBytes();
            cfg.startupWatcherEnabled = false;
        });
        routes();
    }

    /**
     * Loads the model (and its tokenizer, adapters) and starts listening; the caller closes it. Bad options or files
     * are a {@link LoroException} with one line.
     */
    public static OpenAiServer start(ServeOptions options) {
        try {
            options.check();
        } catch (IllegalArgumentException e) {
            throw new LoroException(e.getMessage());
        }
        Path dir = options.model();
        if (!Files.isDirectory(dir)) {
            throw new LoroException(dir + ": not a folder (--model takes a Hugging Face model directory)");
        }
        if (!Files.isRegularFile(dir.resolve("tokenizer.json"))) {
            throw new LoroException(dir + ": no tokenizer.json, needed to serve text");
        }
        LlamaModel model = LlamaModel.load(dir, DataType.FLOAT32, Device.cpu());
        LoroTokenizer tokenizer = null;
        OpenAiServer s = null;
        try {
            tokenizer = LoroTokenizer.load(dir);
            s = new OpenAiServer(options, model, tokenizer);
            for (Map.Entry<String, Path> a : options.adapters().entrySet()) {
                try {
                    s.catalog.load(a.getKey(), a.getValue());
                } catch (ApiError e) {
                    throw new LoroException("--adapter " + a.getKey() + "=" + a.getValue() + ": " + e.getMessage());
                }
            }
            s.app.start(options.host(), options.port());
            return s;
        } catch (RuntimeException e) {
            if (s != null) {
                s.close();
            } else {
                if (tokenizer != null) {
                    tokenizer.close();
                }
                model.close();
            }
            throw e;
        }
    }

    /** The port it listens on (the chosen one when started with port 0). */
    public int port() {
        return app.port();
    }

    public String baseId() {
        return catalog.baseId();
    }

    public int maxModelLen() {
        return maxModelLen;
    }

    /** Choices decoding right now. */
    public int running() {
        return scheduler.onSchedulerThread(scheduler::running);
    }

    private void routes() {
        app.before(ctx -> {
            ctx.attribute("t0", System.nanoTime());
            if (options.apiKey() != null && ctx.path().startsWith("/v1") && !"OPTIONS".equals(ctx.method().name())) {
                String auth = ctx.header("Authorization");
                if (auth == null || !auth.equals("Bearer " + options.apiKey())) {
                    throw new ApiError(401, "authentication_error", null,
                            "Unauthorized: send the server's --api-key as 'Authorization: Bearer KEY'.");
                }
            }
        });
        app.get("/health", ctx -> ctx.status(200).result(""));
        app.get("/", ctx -> ctx.contentType("text/html; charset=utf-8").result(page()));
        app.get("/v1/models", ctx -> ctx.contentType("application/json").result(models().toString()));
        app.post("/v1/chat/completions", ctx -> generation.handle(ctx, parser.chat(body(ctx), catalog.baseId())));
        app.post("/v1/completions", ctx -> generation.handle(ctx, parser.completion(body(ctx), catalog.baseId())));
        app.post("/v1/load_lora_adapter", this::loadLora);
        app.post("/v1/unload_lora_adapter", this::unloadLora);
        app.exception(ApiError.class, (e, ctx) -> error(ctx, e));
        app.exception(HttpResponseException.class, (e, ctx) -> error(ctx, new ApiError(e.getStatus(),
                e.getStatus() == 413 ? "invalid_request_error" : "error", null, e.getMessage())));
        app.exception(Exception.class, (e, ctx) -> error(ctx, new ApiError(500, "InternalServerError", null,
                "internal error: " + LoroException.oneLine(String.valueOf(e.getMessage())))));
        app.error(404, ctx -> {
            if (ctx.attribute("openai-error") == null) {
                error(ctx, new ApiError(404, "NotFoundError", null, "Not found: " + ctx.method() + " " + ctx.path()));
            }
        });
        app.error(405, ctx -> {
            if (ctx.attribute("openai-error") == null) {
                error(ctx, new ApiError(405, "invalid_request_error", null, "Method not allowed: " + ctx.method() + " "
                        + ctx.path()));
            }
        });
    }

    private JsonNode models() {
        ObjectNode out = JSON.createObjectNode();
        out.put("object", "list");
        ArrayNode data = out.putArray("data");
        data.add(modelCard(catalog.baseId(), catalog.created, options.model().toString(), null));
        for (Catalog.Entry e : catalog.adapters()) {
            data.add(modelCard(e.id(), e.created(), e.path().toString(), catalog.baseId()));
        }
        return out;
    }

    private ObjectNode modelCard(String id, long created, String root, String parent) {
        ObjectNode m = JSON.createObjectNode();
        m.put("id", id);
        m.put("object", "model");
        m.put("created", created);
        m.put("owned_by", "loro");
        m.put("root", root);
        m.put("parent", parent);
        m.put("max_model_len", maxModelLen);
        return m;
    }

    private void loadLora(Context ctx) throws IOException {
        runtimeLoraAllowed();
        Fields f = new Fields(objectBody(ctx));
        String name = required(f, "lora_name");
        String pathText = required(f, "lora_path");
        if (!Names.valid(name)) {
            throw ApiError.badField("lora_name", "'lora_name' must be 1 to 128 letters, digits or . _ - / :");
        }
        Path path = underRoot(pathText);
        catalog.load(name, path);
        ctx.contentType("text/plain").result("Success: LoRA adapter '" + name + "' added successfully.");
    }

    private void unloadLora(Context ctx) throws IOException {
        runtimeLoraAllowed();
        Fields f = new Fields(objectBody(ctx));
        String name = required(f, "lora_name");
        catalog.unload(name);
        ctx.contentType("text/plain").result("Success: LoRA adapter '" + name + "' removed successfully.");
    }

    private void runtimeLoraAllowed() {
        if (!options.allowRuntimeLora()) {
            throw new ApiError(404, "NotFoundError", null, "Run-time LoRA loading is off: start the server with"
                    + " --allow-runtime-lora --adapter-root DIR.");
        }
    }

    /** The folder, which must resolve (links followed) to a folder under --adapter-root. */
    private Path underRoot(String text) {
        Path root;
        Path real;
        try {
            root = options.adapterRoot().toRealPath();
            Path p = Path.of(text);
            real = (p.isAbsolute() ? p : root.resolve(p)).toRealPath();
        } catch (IOException | java.nio.file.InvalidPathException e) {
            throw ApiError.badField("lora_path", "'lora_path' " + text + " is not an existing folder under --adapter-root "
                    + options.adapterRoot());
        }
        if (!real.startsWith(root) || !Files.isDirectory(real)) {
            throw ApiError.badField("lora_path", "'lora_path' must be a folder under --adapter-root " + options.adapterRoot()
                    + ", got " + text);
        }
        return real;
    }

    private static String required(Fields f, String name) {
        String v = f.string(name, null);
        if (v == null || v.isEmpty()) {
            throw ApiError.badField(name, "'" + name + "' is required (a non-empty string)");
        }
        return v;
    }

    private JsonNode objectBody(Context ctx) throws IOException {
        JsonNode n = body(ctx);
        if (!n.isObject()) {
            throw ApiError.badRequest("the request body must be a JSON object");
        }
        return n;
    }

    /** The body as JSON, read up to the size limit (413 beyond it; 400 when it is not JSON). */
    private JsonNode body(Context ctx) throws IOException {
        long declared = ctx.req().getContentLengthLong();
        long max = options.maxBodyBytes();
        if (declared > max) {
            throw tooLarge(declared);
        }
        ByteArrayOutputStream buf = new ByteArrayOutputStream();
        try (InputStream in = ctx.req().getInputStream()) {
            byte[] chunk = new byte[8192];
            int n;
            while ((n = in.read(chunk)) > 0) {
                buf.write(chunk, 0, n);
                if (buf.size() > max) {
                    throw tooLarge(buf.size());
                }
            }
        }
        if (buf.size() == 0) {
            throw ApiError.badRequest("the request body is empty: send a JSON object");
        }
        try {
            JsonNode n = JSON.readTree(buf.toByteArray());
            if (n == null) {
                throw ApiError.badRequest("the request body is empty: send a JSON object");
            }
            return n;
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            throw ApiError.badRequest("the request body is not valid JSON: " + LoroException.oneLine(e.getOriginalMessage()));
        }
    }

    private ApiError tooLarge(long size) {
        return new ApiError(413, "invalid_request_error", null, "The request body is too large (" + size
                + " bytes); the limit is " + options.maxBodyBytes() + " bytes (--max-body-bytes).");
    }

    private static void error(Context ctx, ApiError e) {
        ctx.attribute("openai-error", true);
        ctx.status(e.status()).contentType("application/json").result(errorBody(e).toString());
    }

    static ObjectNode errorBody(ApiError e) {
        ObjectNode o = JSON.createObjectNode();
        ObjectNode err = o.putObject("error");
        err.put("message", e.getMessage());
        err.put("type", e.type());
        err.put("param", e.param());
        err.put("code", e.status());
        return o;
    }

    private static String page() throws IOException {
        try (InputStream in = OpenAiServer.class.getResourceAsStream(PAGE)) {
            if (in == null) {
                throw new IOException("the chat page " + PAGE + " is missing from the jar");
            }
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
    }

    @Override
    public void close() {
        app.stop();
        scheduler.close();
        tokenizer.close();
        model.close();
    }
}
