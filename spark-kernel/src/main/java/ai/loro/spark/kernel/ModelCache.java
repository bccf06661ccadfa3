package ai.loro.spark.kernel;

import ai.djl.Device;
import ai.djl.ndarray.types.DataType;
import ai.loro.core.LoroException;
import ai.loro.core.model.LlamaConfig;
import ai.loro.core.model.LlamaModel;
import ai.loro.core.tokenizer.LoroTokenizer;
import ai.loro.lora.Peft;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Models and tokenizers of one JVM (a Spark executor, or the CLI's JVM for embedded runs): each is loaded
 * on first use and then shared by every task thread and every job of the JVM, never shipped in a closure.
 * Keyed by what it is (causal LM or reward model), model folder, adapter folder and device; all are closed
 * by a shutdown hook.
 */
public final class ModelCache {
    private ModelCache() {}

    private record Key(String kind, String model, String adapter, String device) {}

    private static final Map<Key, AutoCloseable> CACHE = new LinkedHashMap<>();
    private static final AtomicInteger MODEL_LOADS = new AtomicInteger();

    static {
        Runtime.getRuntime().addShutdownHook(new Thread(ModelCache::closeAll, "loro-model-cache-close"));
    }

    /** How many models this JVM has loaded (tests: one per distinct key, however many partitions and jobs). */
    public static int modelLoads() {
        return MODEL_LOADS.get();
    }

    /** The causal LM in {@code model}, with the PEFT adapter in {@code adapter} (may be null) attached. */
    public static synchronized LlamaModel causalLm(String model, String adapter) {
        Key key = new Key("lm", model, adapter, device().toString());
        LlamaModel m = (LlamaModel) CACHE.get(key);
        if (m == null) {
            Path dir = folder(model, "--model");
            m = LlamaModel.load(dir, DataType.FLOAT32, device());
            if (adapter != null) {
                m = withAdapter(m, folder(adapter, "--adapter"));
            }
            MODEL_LOADS.incrementAndGet();
            CACHE.put(key, m);
        }
        return m;
    }

    /**
     * A reward model as {@code loro score} loads one: a {@code *ForSequenceClassification} checkpoint, or a base
     * plus an adapter whose modules_to_save hold the score head.
     */
    public static synchronized LlamaModel rewardModel(String model, String adapter) {
        Key key = new Key("reward", model, adapter, device().toString());
        LlamaModel m = (LlamaModel) CACHE.get(key);
        if (m == null) {
            Path dir = folder(model, "--model");
            LlamaConfig c = LlamaConfig.read(dir);
            if (adapter == null) {
                if (!c.isSequenceClassifier()) {
                    throw new LoroException(model + ": " + c.architecture() + " is not a reward model (give a"
                            + " *ForSequenceClassification checkpoint, or --adapter with a score head)");
                }
                m = LlamaModel.load(dir, DataType.FLOAT32, device());
            } else {
                m = withAdapter(LlamaModel.loadAsClassifier(dir, c.isSequenceClassifier() ? c.numLabels() : 1, 0,
                        DataType.FLOAT32, device()), folder(adapter, "--adapter"));
            }
            MODEL_LOADS.incrementAndGet();
            CACHE.put(key, m);
        }
        return m;
    }

    /** The tokenizer of {@code model}; {@code why} names what needs it when the folder has none. */
    public static synchronized LoroTokenizer tokenizer(String model, String why) {
        Key key = new Key("tokenizer", model, null, "host");
        LoroTokenizer t = (LoroTokenizer) CACHE.get(key);
        if (t == null) {
            Path dir = folder(model, "--model");
            if (!Files.isRegularFile(dir.resolve("tokenizer.json"))) {
                throw new LoroException(model + ": no tokenizer.json, needed for " + why);
            }
            t = LoroTokenizer.load(dir);
            CACHE.put(key, t);
        }
        return t;
    }

    public static boolean hasTokenizer(String model) {
        return Files.isRegularFile(Path.of(model).resolve("tokenizer.json"));
    }

    /** Closes everything (the shutdown hook; tests). */
    public static synchronized void closeAll() {
        List<AutoCloseable> all = new ArrayList<>(CACHE.values());
        CACHE.clear();
        for (AutoCloseable c : all) {
            try {
                c.close();
            } catch (Exception e) {
                // shutting down: nothing more to do with it
            }
        }
    }

    /** CPU; a GPU executor would take its device from the task's resources (not wired yet, docs/spark.md). */
    static Device device() {
        return Device.cpu();
    }

    private static Path folder(String path, String option) {
        Path p = Path.of(path);
        if (!Files.isDirectory(p)) {
            throw new LoroException(option + " " + path + ": not a folder on this machine (every executor reads models"
                    + " from its own file system: put them at the same path on every node)");
        }
        return p;
    }

    private static LlamaModel withAdapter(LlamaModel m, Path adapterDir) {
        try {
            Peft.load(adapterDir, m).attach(m);
            return m;
        } catch (RuntimeException e) {
            m.close();
            throw e;
        }
    }
}
