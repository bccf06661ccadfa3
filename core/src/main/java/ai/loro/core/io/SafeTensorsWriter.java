package ai.loro.core.io;

import static ai.loro.core.io.Dtypes.q;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.DataType;
import ai.loro.core.LoroException;
import com.fasterxml.jackson.core.JsonProcessingException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.regex.Pattern;

/**
 * Writes safetensors files the way the reference writer does (header starting with '{', "__metadata__"
 * first, space padding to a multiple of 8, tensors sorted by dtype alignment then name, little-endian
 * row-major data) and sharded checkpoints the way transformers/huggingface_hub do. Every file is written
 * to a temporary file in the same directory, fsynced and atomically renamed; a failed write leaves no
 * file behind.
 */
public final class SafeTensorsWriter {
    private SafeTensorsWriter() {}

    /** Elements staged per step when reading a large NDArray; package-private for tests. */
    static long chunkBytes = 64L << 20;

    private static final SecureRandom RANDOM = new SecureRandom();
    private static final Pattern SHARD_NAME = Pattern.compile("model-\\d{5}-of-\\d{5}\\.safetensors");

    /** Writes NDArrays (any floating point type) as one safetensors file of {@code dtype}. */
    public static void write(Path file, Map<String, NDArray> tensors, Map<String, String> metadata, String dtype) {
        checkDtype(file, dtype);
        if (tensors == null) {
            throw new LoroException(file + ": tensor map is null");
        }
        List<Entry> entries = new ArrayList<>();
        for (Map.Entry<String, NDArray> e : tensors.entrySet()) {
            NDArray a = e.getValue();
            if (a == null) {
                throw new LoroException(file + ": tensor " + q(e.getKey()) + " is null");
            }
            DataType t;
            long[] shape;
            try {
                t = a.getDataType();
                shape = a.getShape().getShape();
            } catch (RuntimeException ex) {
                throw new LoroException(file + ": tensor " + q(e.getKey()) + ": cannot read the array: "
                        + LoroException.oneLine(ex.toString()), ex);
            }
            if (t != DataType.FLOAT32 && t != DataType.FLOAT16 && t != DataType.FLOAT64) {
                throw new LoroException(file + ": tensor " + q(e.getKey()) + " has data type " + t
                        + "; only FLOAT32, FLOAT16 and FLOAT64 arrays can be written");
            }
            entries.add(new Entry(e.getKey(), shape, null, a));
        }
        writeEntries(file, entries, metadata, dtype);
    }

    /** Host-side variant: float data with shapes ({@code shapes} may be null or miss a key: 1-D). */
    public static void writeFloats(Path file, Map<String, float[]> data, Map<String, long[]> shapes,
            Map<String, String> metadata, String dtype) {
        checkDtype(file, dtype);
        if (data == null) {
            throw new LoroException(file + ": tensor map is null");
        }
        List<Entry> entries = new ArrayList<>();
        for (Map.Entry<String, float[]> e : data.entrySet()) {
            float[] v = e.getValue();
            if (v == null) {
                throw new LoroException(file + ": tensor " + q(e.getKey()) + " is null");
            }
            long[] shape = shapes == null ? null : shapes.get(e.getKey());
            if (shape == null) {
                shape = new long[] {v.length};
            }
            entries.add(new Entry(e.getKey(), shape.clone(), v, null));
        }
        writeEntries(file, entries, metadata, dtype);
    }

    /**
     * Saves a checkpoint directory as transformers does: greedy sharding in the map's order with shard
     * limit {@code maxShardBytes} (a tensor larger than the limit gets a shard of its own); one shard is
     * "model.safetensors" without an index, several are "model-0000i-of-0000N.safetensors" plus
     * "model.safetensors.index.json" (written last). Weight files of an earlier save that the new one
     * does not use are removed afterwards.
     */
    public static void writeCheckpoint(Path dir, Map<String, NDArray> tensors, String dtype, long maxShardBytes) {
        if (dir == null) {
            throw new LoroException("checkpoint: directory is null");
        }
        checkDtype(dir, dtype);
        if (tensors == null) {
            throw new LoroException(dir + ": tensor map is null");
        }
        if (maxShardBytes <= 0) {
            throw new LoroException(dir + ": max shard size must be positive, got " + maxShardBytes);
        }
        int elemBytes = Dtypes.bits(dtype) / 8;
        List<Map<String, NDArray>> shards = new ArrayList<>();
        Map<String, NDArray> current = new LinkedHashMap<>();
        long currentSize = 0;
        long totalSize = 0;
        for (Map.Entry<String, NDArray> e : tensors.entrySet()) {
            if (e.getValue() == null) {
                throw new LoroException(dir + ": tensor " + q(e.getKey()) + " is null");
            }
            long size;
            try {
                size = Math.multiplyExact(e.getValue().getShape().size(), (long) elemBytes);
            } catch (ArithmeticException ex) {
                throw new LoroException(dir + ": tensor " + q(e.getKey()) + " is too large");
            }
            if (size > maxShardBytes) {
                totalSize += size;
                Map<String, NDArray> own = new LinkedHashMap<>();
                own.put(e.getKey(), e.getValue());
                shards.add(own);
                continue;
            }
            if (currentSize + size > maxShardBytes) {
                shards.add(current);
                current = new LinkedHashMap<>();
                currentSize = 0;
            }
            current.put(e.getKey(), e.getValue());
            currentSize += size;
            totalSize += size;
        }
        if (!current.isEmpty() || shards.isEmpty()) {
            shards.add(current);
        }
        try {
            Files.createDirectories(dir);
        } catch (IOException e) {
            throw new LoroException(dir + ": cannot create checkpoint directory: " + LoroException.oneLine(e.toString()), e);
        }
        Map<String, String> meta = Map.of("format", "pt");
        Set<String> written = new HashSet<>();
        if (shards.size() == 1) {
            write(dir.resolve(Checkpoint.SINGLE_FILE), shards.get(0), meta, dtype);
            written.add(Checkpoint.SINGLE_FILE);
        } else {
            int n = shards.size();
            TreeMap<String, String> weightMap = new TreeMap<>(SafeTensorsWriter::compareCodePoints);
            for (int i = 0; i < n; i++) {
                String name = String.format("model-%05d-of-%05d.safetensors", i + 1, n);
                write(dir.resolve(name), shards.get(i), meta, dtype);
                written.add(name);
                for (String k : shards.get(i).keySet()) {
                    weightMap.put(k, name);
                }
            }
            StringBuilder sb = new StringBuilder();
            sb.append("{\n  \"metadata\": {\n    \"total_size\": ").append(totalSize).append("\n  },\n");
            sb.append("  \"weight_map\": {");
            boolean first = true;
            for (Map.Entry<String, String> e : weightMap.entrySet()) {
                sb.append(first ? "\n" : ",\n");
                first = false;
                sb.append("    ").append(pyJson(e.getKey())).append(": ").append(pyJson(e.getValue()));
            }
            sb.append(first ? "}\n}\n" : "\n  }\n}\n");
            writeAtomically(dir.resolve(Checkpoint.INDEX_FILE), sb.toString().getBytes(StandardCharsets.UTF_8));
            written.add(Checkpoint.INDEX_FILE);
        }
        removeStale(dir, written);
    }

    private static void removeStale(Path dir, Set<String> written) {
        try (DirectoryStream<Path> ds = Files.newDirectoryStream(dir)) {
            for (Path p : ds) {
                String name = p.getFileName().toString();
                boolean weights = name.equals(Checkpoint.SINGLE_FILE) || name.equals(Checkpoint.INDEX_FILE)
                        || SHARD_NAME.matcher(name).matches();
                if (weights && !written.contains(name) && Files.isRegularFile(p)) {
                    Files.deleteIfExists(p);
                }
            }
        } catch (IOException e) {
            throw new LoroException(dir + ": saved, but cannot remove weight files of an earlier save: "
                    + LoroException.oneLine(e.toString()), e);
        }
    }

    /** Python's json.dumps string form (ensure_ascii=True). */
    static String pyJson(String s) {
        StringBuilder b = new StringBuilder("\"");
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            switch (c) {
                case '"' -> b.append("\\\"");
                case '\\' -> b.append("\\\\");
                case '\n' -> b.append("\\n");
                case '\r' -> b.append("\\r");
                case '\t' -> b.append("\\t");
                case '\b' -> b.append("\\b");
                case '\f' -> b.append("\\f");
                default -> {
                    if (c < 0x20 || c > 0x7E) {
                        b.append(String.format("\\u%04x", (int) c));
                    } else {
                        b.append(c);
                    }
                }
            }
        }
        return b.append('"').toString();
    }

    static int compareCodePoints(String a, String b) {
        int i = 0;
        int j = 0;
        while (i < a.length() && j < b.length()) {
            int ca = a.codePointAt(i);
            int cb = b.codePointAt(j);
            if (ca != cb) {
                return Integer.compare(ca, cb);
            }
            i += Character.charCount(ca);
            j += Character.charCount(cb);
        }
        return Integer.compare(a.length() - i, b.length() - j);
    }

    private static int compareUtf8(String a, String b) {
        return Arrays.compareUnsigned(a.getBytes(StandardCharsets.UTF_8), b.getBytes(StandardCharsets.UTF_8));
    }

    private static void checkDtype(Path file, String dtype) {
        if (!"F32".equals(dtype) && !"F16".equals(dtype) && !"BF16".equals(dtype)) {
            throw new LoroException(file + ": cannot write dtype " + q(dtype) + " (allowed: F32, F16, BF16)");
        }
    }

    private record Entry(String name, long[] shape, float[] floats, NDArray array) {}

    private static void writeEntries(Path file, List<Entry> entries, Map<String, String> metadata, String dtype) {
        if (file == null) {
            throw new LoroException("safetensors: output file path is null");
        }
        int elemBytes = Dtypes.bits(dtype) / 8;
        Map<String, String> meta = new LinkedHashMap<>();
        meta.put("format", "pt");
        if (metadata != null) {
            for (Map.Entry<String, String> m : metadata.entrySet()) {
                if (m.getKey() == null || m.getValue() == null) {
                    throw new LoroException(file + ": metadata key and value must not be null (key "
                            + q(m.getKey()) + ")");
                }
                meta.put(m.getKey(), m.getValue());
            }
        }
        for (Entry e : entries) {
            if (e.name() == null) {
                throw new LoroException(file + ": tensor name is null");
            }
            if (e.name().equals("__metadata__")) {
                throw new LoroException(file + ": \"__metadata__\" is reserved and cannot be a tensor name");
            }
            long numel = 1;
            try {
                for (long d : e.shape()) {
                    if (d < 0) {
                        throw new LoroException(file + ": tensor " + q(e.name()) + ": negative dimension in shape "
                                + Arrays.toString(e.shape()));
                    }
                    numel = Math.multiplyExact(numel, d);
                }
                Math.multiplyExact(numel, (long) elemBytes);
            } catch (ArithmeticException ex) {
                throw new LoroException(file + ": tensor " + q(e.name()) + ": shape " + Arrays.toString(e.shape())
                        + " is too large");
            }
            if (e.floats() != null && numel != e.floats().length) {
                throw new LoroException(file + ": tensor " + q(e.name()) + ": shape " + Arrays.toString(e.shape())
                        + " has " + numel + " elements but " + e.floats().length + " values were given");
            }
        }
        // Layout as the reference writer: dtype alignment descending (one dtype here), then name.
        List<Entry> sorted = new ArrayList<>(entries);
        sorted.sort((x, y) -> compareUtf8(x.name(), y.name()));
        Map<String, Object> header = new LinkedHashMap<>();
        header.put("__metadata__", meta);
        long offset = 0;
        for (Entry e : sorted) {
            long numel = 1;
            for (long d : e.shape()) {
                numel *= d;
            }
            long end = offset + numel * elemBytes;
            Map<String, Object> t = new LinkedHashMap<>();
            t.put("dtype", dtype);
            t.put("shape", e.shape());
            t.put("data_offsets", new long[] {offset, end});
            header.put(e.name(), t);
            offset = end;
        }
        byte[] json;
        try {
            json = SafeTensorsFile.JSON.writeValueAsBytes(header);
        } catch (JsonProcessingException ex) {
            throw new LoroException(file + ": cannot encode header: " + LoroException.oneLine(ex.getOriginalMessage()), ex);
        }
        int padded = (json.length + 7) / 8 * 8;
        if (padded > SafeTensorsFile.MAX_HEADER_SIZE) {
            throw new LoroException(file + ": header would be " + padded + " bytes, over the limit of "
                    + SafeTensorsFile.MAX_HEADER_SIZE);
        }
        final long dataBytes = offset;
        writeAtomically(file, ch -> {
            ByteBuffer head = ByteBuffer.allocate(8 + padded).order(ByteOrder.LITTLE_ENDIAN);
            head.putLong(padded).put(json);
            while (head.hasRemaining()) {
                head.put((byte) ' ');
            }
            head.flip();
            writeAll(ch, head);
            Out out = new Out(ch, dtype);
            for (Entry e : sorted) {
                if (e.floats() != null) {
                    for (float f : e.floats()) {
                        out.put(f);
                    }
                } else {
                    try {
                        writeArray(file, e, out);
                    } catch (LoroException | IOException ex) {
                        throw ex;
                    } catch (RuntimeException ex) {
                        throw new LoroException(file + ": tensor " + q(e.name()) + ": cannot read the array: "
                                + LoroException.oneLine(ex.toString()), ex);
                    }
                }
            }
            out.flush();
            if (out.written != dataBytes) {
                throw new LoroException(file + ": internal error: wrote " + out.written + " data bytes, expected "
                        + dataBytes);
            }
        });
    }

    private static void writeArray(Path file, Entry e, Out out) throws IOException {
        NDArray a = e.array();
        long numel = a.getShape().size();
        if (numel == 0) {
            return;
        }
        DataType t = a.getDataType();
        long chunkElems = Math.max(1, chunkBytes / Math.max(t.getNumOfBytes(), 4));
        NDArray host = null;
        NDArray flat = null;
        try {
            host = a.getDevice().equals(Device.cpu()) ? a : a.toDevice(Device.cpu(), true);
            if (numel <= chunkElems) {
                out.put(host.toByteBuffer().order(ByteOrder.nativeOrder()), t);
                return;
            }
            flat = host.reshape(-1);
            for (long s = 0; s < numel; s += chunkElems) {
                long en = Math.min(numel, s + chunkElems);
                NDArray part = flat.get(new NDIndex().addSliceDim(s, en));
                try {
                    out.put(part.toByteBuffer().order(ByteOrder.nativeOrder()), t);
                } finally {
                    part.close();
                }
            }
        } finally {
            if (flat != null) {
                flat.close();
            }
            if (host != null && host != a) {
                host.close();
            }
        }
    }

    /** Buffered little-endian element writer that narrows to the file dtype. */
    private static final class Out {
        final FileChannel ch;
        final int kind; // 0 F32, 1 F16, 2 BF16
        final ByteBuffer buf = ByteBuffer.allocateDirect(1 << 20).order(ByteOrder.LITTLE_ENDIAN);
        long written;

        Out(FileChannel ch, String dtype) {
            this.ch = ch;
            this.kind = switch (dtype) {
                case "F32" -> 0;
                case "F16" -> 1;
                default -> 2;
            };
        }

        void put(float f) throws IOException {
            if (buf.remaining() < 4) {
                flush();
            }
            switch (kind) {
                case 0 -> buf.putFloat(f);
                case 1 -> buf.putShort(Bf16.floatToFp16(f));
                default -> buf.putShort(Bf16.fromFloat(f));
            }
        }

        void put(ByteBuffer data, DataType t) throws IOException {
            if (t == DataType.FLOAT32) {
                var fb = data.asFloatBuffer();
                if (kind == 0 && data.order() == ByteOrder.LITTLE_ENDIAN) {
                    flush();
                    ByteBuffer d = data.duplicate();
                    written += d.remaining();
                    writeAll(ch, d);
                    return;
                }
                for (int i = 0, n = fb.limit(); i < n; i++) {
                    put(fb.get(i));
                }
            } else if (t == DataType.FLOAT16) {
                var sb = data.asShortBuffer();
                for (int i = 0, n = sb.limit(); i < n; i++) {
                    short h = sb.get(i);
                    if (kind == 1) {
                        if (buf.remaining() < 2) {
                            flush();
                        }
                        buf.putShort(h);
                    } else {
                        put(Bf16.fp16ToFloat(h));
                    }
                }
            } else { // FLOAT64
                var db = data.asDoubleBuffer();
                for (int i = 0, n = db.limit(); i < n; i++) {
                    put((float) db.get(i));
                }
            }
        }

        void flush() throws IOException {
            buf.flip();
            written += buf.remaining();
            writeAll(ch, buf);
            buf.clear();
        }
    }

    private static void writeAll(FileChannel ch, ByteBuffer b) throws IOException {
        while (b.hasRemaining()) {
            ch.write(b);
        }
    }

    interface Body {
        void write(FileChannel ch) throws IOException;
    }

    static void writeAtomically(Path file, byte[] content) {
        writeAtomically(file, ch -> writeAll(ch, ByteBuffer.wrap(content)));
    }

    /** Writes via "name.tmp-random" in the same directory, fsync, atomic rename; no temp file survives. */
    static void writeAtomically(Path file, Body body) {
        Path abs = file.toAbsolutePath();
        Path dir = abs.getParent();
        if (dir == null || !Files.isDirectory(dir)) {
            throw new LoroException(file + ": directory " + dir + " does not exist");
        }
        if (Files.isDirectory(abs)) {
            throw new LoroException(file + ": is a directory");
        }
        Path tmp = dir.resolve(abs.getFileName() + ".tmp-" + Long.toHexString(RANDOM.nextLong() & Long.MAX_VALUE));
        boolean moved = false;
        try {
            try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
                body.write(ch);
                ch.force(true);
            }
            try {
                Files.move(tmp, abs, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            } catch (AtomicMoveNotSupportedException e) {
                Files.move(tmp, abs, StandardCopyOption.REPLACE_EXISTING);
            }
            moved = true;
            fsyncDirectory(dir);
        } catch (IOException e) {
            throw new LoroException(file + ": cannot write: " + LoroException.oneLine(e.toString()), e);
        } finally {
            if (!moved) {
                try {
                    Files.deleteIfExists(tmp);
                } catch (IOException ignored) {
                    // best effort
                }
            }
        }
    }

    private static void fsyncDirectory(Path dir) {
        try (FileChannel d = FileChannel.open(dir, StandardOpenOption.READ)) {
            d.force(true);
        } catch (IOException | RuntimeException ignored) {
            // not supported on every platform/file system
        }
    }
}
