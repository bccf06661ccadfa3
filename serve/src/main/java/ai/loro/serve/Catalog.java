package ai.loro.serve;

import ai.loro.core.LoroException;
import ai.loro.core.model.LlamaModel;
import ai.loro.lora.LoraAdapter;
import ai.loro.lora.Peft;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The served ids: the base model and its LoRA adapters (loaded once, never attached to the model; the scheduler
 * routes them per row). Loads and unloads run on the scheduler thread, between steps.
 */
final class Catalog {
    record Entry(String id, Path path, LoraAdapter adapter, long created) {}

    private final String baseId;
    private final LlamaModel model;
    private final Scheduler scheduler;
    private final Map<String, Entry> adapters = new LinkedHashMap<>();
    private final List<LoraAdapter> retiring = new ArrayList<>();
    final long created = System.currentTimeMillis() / 1000;

    Catalog(String baseId, LlamaModel model, Scheduler scheduler) {
        this.baseId = baseId;
        this.model = model;
        this.scheduler = scheduler;
    }

    String baseId() {
        return baseId;
    }

    /** The adapter for a request's model id (null for the base); 404 for an unknown id. */
    synchronized LoraAdapter resolve(String id) {
        if (id.equals(baseId)) {
            return null;
        }
        Entry e = adapters.get(id);
        if (e == null) {
            throw ApiError.unknownModel(id);
        }
        return e.adapter();
    }

    synchronized List<Entry> adapters() {
        return List.copyOf(adapters.values());
    }

    /** Loads a PEFT folder under {@code name}; 400 when the name is taken or the folder is not an adapter of this base. */
    Entry load(String name, Path dir) {
        synchronized (this) {
            if (name.equals(baseId) || adapters.containsKey(name)) {
                throw ApiError.badField("lora_name", "The lora adapter '" + name + "' has already been loaded.");
            }
        }
        if (!Files.isRegularFile(dir.resolve(Peft.CONFIG_FILE))) {
            throw ApiError.badField("lora_path", "'" + dir + "' is not a PEFT adapter folder: it has no " + Peft.CONFIG_FILE);
        }
        return scheduler.onSchedulerThread(() -> {
            LoraAdapter a;
            try {
                a = Peft.load(dir, model);
            } catch (LoroException e) {
                throw ApiError.badField("lora_path", "cannot load the adapter in '" + dir + "': "
                        + LoroException.oneLine(e.getMessage()));
            }
            Entry e = new Entry(name, dir, a, System.currentTimeMillis() / 1000);
            synchronized (this) {
                adapters.put(name, e);
            }
            scheduler.installAdapters(loaded());
            return e;
        });
    }

    /** Unloads an adapter: new requests no longer find it; its arrays are freed once no running choice uses it. */
    void unload(String name) {
        Entry e;
        synchronized (this) {
            e = adapters.remove(name);
        }
        if (e == null) {
            throw ApiError.notFound("lora_name", "The lora adapter '" + name + "' cannot be found.");
        }
        scheduler.onSchedulerThread(() -> {
            retiring.add(e.adapter());
            closeRetired();
            return null;
        });
    }

    /** Closes retired adapters no choice uses any more (scheduler thread). */
    void closeRetired() {
        if (retiring.isEmpty()) {
            return;
        }
        for (var it = retiring.iterator(); it.hasNext(); ) {
            LoraAdapter a = it.next();
            if (!scheduler.inUse(a)) {
                scheduler.forget(a);
                it.remove();
                scheduler.installAdapters(loaded());
                a.close();
            }
        }
    }

    private List<LoraAdapter> loaded() {
        List<LoraAdapter> all = new ArrayList<>();
        synchronized (this) {
            for (Entry e : adapters.values()) {
                all.add(e.adapter());
            }
        }
        all.addAll(retiring);
        return all;
    }
}
