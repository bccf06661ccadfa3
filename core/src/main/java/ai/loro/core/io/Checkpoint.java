package ai.loro.core.io;

import static ai.loro.core.io.Dtypes.q;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.loro.core.LoroException;
import com.fasterxml.jackson.core.JacksonException;
import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The weights of a Hugging Face model directory: "model.safetensors", or "model.safetensors.index.json"
 * with its shards, or one other named safetensors file (e.g. "adapter_model.safetensors"). Everything is
 * validated on {@link #open}: every shard exists and is a valid safetensors file, every tensor of the
 * index is in its shard, no tensor is in two shards.
 */
public final class Checkpoint implements AutoCloseable {
    public static final String SINGLE_FILE = "model.safetensors";
    public static final String INDEX_FILE = "model.safetensors.index.json";
    private static final long MAX_INDEX_BYTES = 100_000_000L;

    private final Path dir;
    private final Map<String, SafeTensorsFile> owner;
    private final List<SafeTensorsFile> files;
    private final Set<String> names;

    private Checkpoint(Path dir, Map<String, SafeTensorsFile> owner, List<SafeTensorsFile> files) {
        this.dir = dir;
        this.owner = owner;
        this.files = Collections.unmodifiableList(files);
        this.names = Collections.unmodifiableSet(owner.keySet());
    }

    /**
     * Opens a model directory: "model.safetensors" if present, else "model.safetensors.index.json", else the
     * directory's only "*.safetensors" file.
     */
    public static Checkpoint open(Path dir) {
        checkDir(dir);
        if (Files.isRegularFile(dir.resolve(SINGLE_FILE))) {
            return open(dir, SINGLE_FILE);
        }
        if (Files.isRegularFile(dir.resolve(INDEX_FILE))) {
            return open(dir, INDEX_FILE);
        }
        List<String> found = new ArrayList<>();
        try (DirectoryStream<Path> ds = Files.newDirectoryStream(dir, "*.safetensors")) {
            for (Path p : ds) {
                if (Files.isRegularFile(p)) {
                    found.add(p.getFileName().toString());
                }
            }
        } catch (IOException e) {
            throw new LoroException(dir + ": cannot list directory: " + LoroException.oneLine(e.toString()), e);
        }
        if (found.size() == 1) {
            return open(dir, found.get(0));
        }
        Collections.sort(found);
        throw new LoroException(dir + ": no " + SINGLE_FILE + " or " + INDEX_FILE
                + (found.isEmpty() ? " and no other *.safetensors file"
                        : " and " + found.size() + " other *.safetensors files " + found + " (name one)"));
    }

    /**
     * Opens one named weight file of a directory: a safetensors file, or (if the name ends with
     * ".index.json") a sharded index.
     */
    public static Checkpoint open(Path dir, String fileName) {
        checkDir(dir);
        if (fileName == null || fileName.isEmpty()) {
            throw new LoroException(dir + ": weight file name is empty");
        }
        Path file = inside(dir, fileName, dir.toString());
        if (!Files.isRegularFile(file)) {
            throw new LoroException(file + ": weight file not found");
        }
        if (fileName.endsWith(".index.json")) {
            return openIndex(dir, file);
        }
        SafeTensorsFile f = SafeTensorsFile.open(file);
        Map<String, SafeTensorsFile> owner = new LinkedHashMap<>();
        for (String name : f.tensors().keySet()) {
            owner.put(name, f);
        }
        return new Checkpoint(dir, owner, new ArrayList<>(List.of(f)));
    }

    private static void checkDir(Path dir) {
        if (dir == null) {
            throw new LoroException("checkpoint: directory is null");
        }
        if (!Files.isDirectory(dir)) {
            throw new LoroException(dir + ": checkpoint directory not found");
        }
    }

    private static Path inside(Path dir, String name, String where) {
        Path p;
        try {
            p = dir.resolve(name).normalize();
        } catch (RuntimeException e) {
            throw new LoroException(where + ": invalid file name " + q(name));
        }
        if (name.isEmpty() || !p.startsWith(dir.normalize()) || p.equals(dir.normalize())) {
            throw new LoroException(where + ": file name " + q(name) + " must name a file inside " + dir);
        }
        return p;
    }

    private static Checkpoint openIndex(Path dir, Path index) {
        JsonNode root;
        try {
            long size = Files.size(index);
            if (size > MAX_INDEX_BYTES) {
                throw new LoroException(index + ": index is " + size + " bytes, over the limit of " + MAX_INDEX_BYTES);
            }
            root = SafeTensorsFile.JSON.readTree(Files.readAllBytes(index));
        } catch (JacksonException e) {
            String dup = SafeTensorsFile.duplicateKey(e);
            if (dup != null) {
                throw new LoroException(index + ": duplicate key " + q(dup) + " (a tensor may be listed once)", e);
            }
            throw new LoroException(index + ": not valid JSON: " + LoroException.oneLine(e.getOriginalMessage()), e);
        } catch (IOException e) {
            throw new LoroException(index + ": cannot read: " + LoroException.oneLine(e.toString()), e);
        }
        if (root == null || !root.isObject()) {
            throw new LoroException(index + ": must be a JSON object with \"weight_map\"");
        }
        JsonNode wm = root.get("weight_map");
        if (wm == null || !wm.isObject()) {
            throw new LoroException(index + ": \"weight_map\" missing or not an object of tensor name -> shard file");
        }
        JsonNode meta = root.get("metadata");
        if (meta != null && !meta.isNull() && !meta.isObject()) {
            throw new LoroException(index + ": \"metadata\" must be an object");
        }
        Map<String, String> weightMap = new LinkedHashMap<>();
        Map<String, Path> shardPaths = new LinkedHashMap<>();
        for (Iterator<Map.Entry<String, JsonNode>> it = wm.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> e = it.next();
            if (!e.getValue().isTextual()) {
                throw new LoroException(index + ": weight_map entry " + q(e.getKey()) + " must be a shard file name");
            }
            String shard = e.getValue().textValue();
            weightMap.put(e.getKey(), shard);
            if (!shardPaths.containsKey(shard)) {
                Path p = inside(dir, shard, index + ": weight_map entry " + q(e.getKey()));
                if (!Files.isRegularFile(p)) {
                    throw new LoroException(index + ": shard " + q(shard) + " (for tensor " + q(e.getKey())
                            + ") does not exist in " + dir);
                }
                shardPaths.put(shard, p);
            }
        }
        List<SafeTensorsFile> opened = new ArrayList<>();
        boolean ok = false;
        try {
            Map<String, SafeTensorsFile> byShard = new LinkedHashMap<>();
            for (Map.Entry<String, Path> s : shardPaths.entrySet()) {
                SafeTensorsFile f = SafeTensorsFile.open(s.getValue());
                opened.add(f);
                byShard.put(s.getKey(), f);
            }
            Map<String, SafeTensorsFile> owner = new LinkedHashMap<>();
            for (Map.Entry<String, String> e : weightMap.entrySet()) {
                SafeTensorsFile f = byShard.get(e.getValue());
                if (!f.tensors().containsKey(e.getKey())) {
                    throw new LoroException(index + ": tensor " + q(e.getKey()) + " is listed in shard "
                            + q(e.getValue()) + " but that file does not contain it");
                }
                owner.put(e.getKey(), f);
            }
            Map<String, String> seenIn = new LinkedHashMap<>();
            for (Map.Entry<String, SafeTensorsFile> s : byShard.entrySet()) {
                for (String name : s.getValue().tensors().keySet()) {
                    String prev = seenIn.putIfAbsent(name, s.getKey());
                    if (prev != null) {
                        throw new LoroException(index + ": tensor " + q(name) + " is in two shards, " + q(prev)
                                + " and " + q(s.getKey()));
                    }
                    // A tensor present in a shard but absent from the index is loaded too (as transformers does).
                    owner.putIfAbsent(name, s.getValue());
                }
            }
            ok = true;
            return new Checkpoint(dir, owner, opened);
        } finally {
            if (!ok) {
                for (SafeTensorsFile f : opened) {
                    f.close();
                }
            }
        }
    }

    /** Tensor names: header order (single file) or index order, then tensors the index does not list. */
    public Set<String> names() {
        return names;
    }

    public boolean contains(String name) {
        return owner.containsKey(name);
    }

    public TensorInfo info(String name) {
        return file(name).info(name);
    }

    /** Loads a tensor into {@code manager} as FLOAT32, FLOAT64 or FLOAT16 (see {@link SafeTensorsFile#load}). */
    public NDArray load(String name, NDManager manager, DataType target) {
        return file(name).load(name, manager, target);
    }

    /** Reads a small tensor widened to float. */
    public float[] readFloats(String name) {
        return file(name).readFloats(name);
    }

    /** The safetensors file that holds {@code name}. */
    public SafeTensorsFile file(String name) {
        SafeTensorsFile f = owner.get(name);
        if (f == null) {
            throw new LoroException(dir + ": checkpoint has no tensor " + q(name) + " (" + owner.size() + " tensors)");
        }
        return f;
    }

    /** The opened weight files, in shard order. */
    public List<SafeTensorsFile> files() {
        return files;
    }

    public Path directory() {
        return dir;
    }

    @Override
    public void close() {
        for (SafeTensorsFile f : files) {
            f.close();
        }
    }

    @Override
    public String toString() {
        return "Checkpoint[" + dir + ", " + owner.size() + " tensors in " + files.size() + " file(s)]";
    }
}
