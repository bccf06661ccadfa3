package ai.loro.cli;

import ai.loro.core.LoroException;
import ai.loro.serve.OpenAiServer;
import ai.loro.serve.ServeOptions;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code loro serve}: the OpenAI-compatible server with per-request LoRA adapters and a chat page. */
@Command(name = "serve", mixinStandardHelpOptions = true,
        description = {"Serve a model over the OpenAI API (as vLLM does): GET /v1/models, POST /v1/chat/completions,"
                + " POST /v1/completions (stream: true for server-sent events), GET /health, a chat page at /.",
            "Each --adapter is its own model id (parent = the base); requests pick it with \"model\". Requests join the"
                + " running batch between decode steps (continuous batching). See docs/serving.md."})
final class ServeCommand implements Callable<Integer> {
    @Option(names = "--model", required = true, paramLabel = "DIR", description = ModelOptions.MODEL_HELP) Path model;
    @Option(names = "--adapter", paramLabel = "NAME=DIR", description = "A PEFT LoRA adapter served as model NAME (repeatable).")
    List<String> adapters = new java.util.ArrayList<>();
    @Option(names = "--served-model-name", paramLabel = "NAME", description = "The base model's id (default: the folder's name).")
    String servedModelName;
    @Option(names = "--host", defaultValue = "127.0.0.1", description = "Address to bind (default: ${DEFAULT-VALUE}).") String host;
    @Option(names = "--port", defaultValue = "8000", description = "Port (default: ${DEFAULT-VALUE}; 0 = any free port).") int port;
    @Option(names = "--api-key", paramLabel = "KEY", description = "Require 'Authorization: Bearer KEY' on /v1 (as vLLM).") String apiKey;
    @Option(names = "--max-batch", defaultValue = "16", description = "Choices decoded together at most (default: ${DEFAULT-VALUE}).") int maxBatch;
    @Option(names = "--max-queue", defaultValue = "256", description = "Choices waiting for a row at most; more get 503 (default: ${DEFAULT-VALUE}).") int maxQueue;
    @Option(names = "--max-model-len", defaultValue = "0", description = "Prompt + completion tokens at most (default: the model's max_position_embeddings).") int maxModelLen;
    @Option(names = "--max-body-bytes", defaultValue = "1048576", description = "Larger request bodies get 413 (default: ${DEFAULT-VALUE}).") long maxBodyBytes;
    @Option(names = "--allow-runtime-lora", description = "Enable POST /v1/load_lora_adapter and /v1/unload_lora_adapter (needs --adapter-root).")
    boolean allowRuntimeLora;
    @Option(names = "--adapter-root", paramLabel = "DIR", description = "Run-time adapters load only from folders under DIR.") Path adapterRoot;
    @Option(names = "--adapter-batching", defaultValue = "mixed",
            description = "mixed (one batch, per-row adapter selection; default) or grouped (one batch per adapter).")
    String adapterBatching;

    @Override
    public Integer call() throws Exception {
        Map<String, Path> named = new LinkedHashMap<>();
        for (String a : adapters) {
            int eq = a.indexOf('=');
            if (eq <= 0 || eq == a.length() - 1) {
                throw new LoroException("--adapter " + a + ": expected NAME=DIR (e.g. --adapter sql=runs/sql/adapter)");
            }
            if (named.put(a.substring(0, eq), Path.of(a.substring(eq + 1))) != null) {
                throw new LoroException("--adapter name '" + a.substring(0, eq) + "' is given twice");
            }
        }
        Path dir = ModelOptions.resolveModel("--model", model);
        ServeOptions o = new ServeOptions(dir, named, servedModelName, host, port, apiKey, maxBatch, maxQueue,
                allowRuntimeLora, adapterRoot, maxModelLen, maxBodyBytes, adapterBatching);
        OpenAiServer server = OpenAiServer.start(o);
        System.err.println("loro: serving " + server.baseId() + (named.isEmpty() ? "" : " and adapters " + named.keySet())
                + " on http://" + host + ":" + server.port() + "/ (OpenAI API under /v1)");
        CountDownLatch stop = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            server.close();
            stop.countDown();
        }));
        stop.await();
        return 0;
    }
}
