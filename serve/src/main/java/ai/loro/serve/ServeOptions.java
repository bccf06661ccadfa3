package ai.loro.serve;

import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * What {@code loro serve} was started with, validated once by {@link #check()}.
 *
 * @param adapters adapter name → PEFT folder, served from the start
 * @param servedModelName the base model's id (null: the model folder's name)
 * @param maxBatch rows decoded together at most
 * @param maxQueue requests waiting for a row at most; more are refused with 503
 * @param maxModelLen prompt + completion tokens at most (0: the model's max_position_embeddings)
 * @param maxBodyBytes request bodies larger than this are refused with 413
 * @param adapterBatching "mixed" (one batch, per-row adapter selection) or "grouped" (one batch per adapter)
 */
public record ServeOptions(Path model, Map<String, Path> adapters, String servedModelName, String host, int port,
                           String apiKey, int maxBatch, int maxQueue, boolean allowRuntimeLora, Path adapterRoot,
                           int maxModelLen, long maxBodyBytes, String adapterBatching) {
    public ServeOptions {
        adapters = java.util.Collections.unmodifiableMap(new LinkedHashMap<>(adapters == null ? Map.of() : adapters));
    }

    public static ServeOptions defaults(Path model) {
        return new ServeOptions(model, Map.of(), null, "127.0.0.1", 8000, null, 16, 256, false, null, 0, 1 << 20, "mixed");
    }

    public ServeOptions withAdapters(Map<String, Path> a) {
        return new ServeOptions(model, a, servedModelName, host, port, apiKey, maxBatch, maxQueue, allowRuntimeLora,
                adapterRoot, maxModelLen, maxBodyBytes, adapterBatching);
    }

    public ServeOptions withPort(int p) {
        return new ServeOptions(model, adapters, servedModelName, host, p, apiKey, maxBatch, maxQueue, allowRuntimeLora,
                adapterRoot, maxModelLen, maxBodyBytes, adapterBatching);
    }

    public ServeOptions withApiKey(String k) {
        return new ServeOptions(model, adapters, servedModelName, host, port, k, maxBatch, maxQueue, allowRuntimeLora,
                adapterRoot, maxModelLen, maxBodyBytes, adapterBatching);
    }

    public ServeOptions withLimits(int batch, int queue, long bodyBytes) {
        return new ServeOptions(model, adapters, servedModelName, host, port, apiKey, batch, queue, allowRuntimeLora,
                adapterRoot, maxModelLen, bodyBytes, adapterBatching);
    }

    public ServeOptions withRuntimeLora(boolean allow, Path root) {
        return new ServeOptions(model, adapters, servedModelName, host, port, apiKey, maxBatch, maxQueue, allow, root,
                maxModelLen, maxBodyBytes, adapterBatching);
    }

    public ServeOptions withAdapterBatching(String mode) {
        return new ServeOptions(model, adapters, servedModelName, host, port, apiKey, maxBatch, maxQueue, allowRuntimeLora,
                adapterRoot, maxModelLen, maxBodyBytes, mode);
    }

    public ServeOptions withServedModelName(String name) {
        return new ServeOptions(model, adapters, name, host, port, apiKey, maxBatch, maxQueue, allowRuntimeLora,
                adapterRoot, maxModelLen, maxBodyBytes, adapterBatching);
    }

    /** Throws {@link IllegalArgumentException} with one line naming the option and what is allowed. */
    public ServeOptions check() {
        if (port < 0 || port > 65535) {
            throw new IllegalArgumentException("--port must be in 0..65535 (0 = any free port), got " + port);
        }
        if (maxBatch < 1 || maxBatch > 256) {
            throw new IllegalArgumentException("--max-batch must be in 1..256, got " + maxBatch);
        }
        if (maxQueue < 0) {
            throw new IllegalArgumentException("--max-queue must be >= 0, got " + maxQueue);
        }
        if (maxModelLen < 0) {
            throw new IllegalArgumentException("--max-model-len must be >= 0 (0 = the model's max_position_embeddings), got "
                    + maxModelLen);
        }
        if (maxBodyBytes < 1024) {
            throw new IllegalArgumentException("--max-body-bytes must be >= 1024, got " + maxBodyBytes);
        }
        if (!adapterBatching.equals("mixed") && !adapterBatching.equals("grouped")) {
            throw new IllegalArgumentException("--adapter-batching must be mixed or grouped, got " + adapterBatching);
        }
        if (allowRuntimeLora && adapterRoot == null) {
            throw new IllegalArgumentException("--allow-runtime-lora needs --adapter-root DIR (run-time adapters load only"
                    + " from folders under it)");
        }
        if (adapterRoot != null && !java.nio.file.Files.isDirectory(adapterRoot)) {
            throw new IllegalArgumentException("--adapter-root " + adapterRoot + " is not a folder");
        }
        if (apiKey != null && apiKey.isEmpty()) {
            throw new IllegalArgumentException("--api-key must not be empty");
        }
        for (String name : adapters.keySet()) {
            Names.checkAdapterName(name, "--adapter");
        }
        return this;
    }
}
