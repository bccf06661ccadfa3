package ai.loro.core.io;

import static ai.loro.core.io.Dtypes.q;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.loro.core.LoroException;
import com.fasterxml.jackson.core.JacksonException;
import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.StreamReadFeature;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A read-only, memory-mapped safetensors file. {@link #open} validates the whole header the way the
 * reference Rust reader does (sizes, dtypes, shapes, contiguous offsets, exact file length) before any
 * native call; tensors are mapped region by region on {@link #load} and copied into the NDArray, so an
 * NDArray never points into the file's mapping and stays valid after {@link #close}.
 */
public final class SafeTensorsFile implements AutoCloseable {
    /** Largest accepted header, as in the reference implementation. */
    public static final long MAX_HEADER_SIZE = 100_000_000L;

    /** Bytes converted per step (mapping window and staging buffer); package-private for tests. */
    static long chunkBytes = 64L << 20;

    static final ObjectMapper JSON = strictMapper();

    private final Path path;
    private final FileChannel channel;
    private final long dataStart;
    private final Map<String, TensorInfo> tensors;
    private final Map<String, String> metadata;
    private volatile boolean closed;

    private SafeTensorsFile(Path path, FileChannel channel, long dataStart,
            Map<String, TensorInfo> tensors, Map<String, String> metadata) {
        this.path = path;
        this.channel = channel;
        this.dataStart = dataStart;
        this.tensors = Collections.unmodifiableMap(tensors);
        this.metadata = Collections.unmodifiableMap(metadata);
    }

    static ObjectMapper strictMapper() {
        JsonFactory factory = JsonFactory.builder()
                .enable(StreamReadFeature.STRICT_DUPLICATE_DETECTION)
                .build();
        ObjectMapper mapper = new ObjectMapper(factory);
        mapper.enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS);
        mapper.enable(JsonParser.Feature.STRICT_DUPLICATE_DETECTION);
        return mapper;
    }

    /** Opens and validates a safetensors file; every problem is a one-line {@link LoroException}. */
    public static SafeTensorsFile open(Path file) {
        if (file == null) {
            throw new LoroException("safetensors: file path is null");
        }
        if (!Files.isRegularFile(file)) {
            throw new LoroException(file + ": safetensors file not found (or not a regular file)");
        }
        FileChannel ch;
        try {
            ch = FileChannel.open(file, StandardOpenOption.READ);
        } catch (IOException | SecurityException e) {
            throw new LoroException(file + ": cannot open safetensors file: " + LoroException.oneLine(e.toString()), e);
        }
        boolean ok = false;
        try {
            long size = ch.size();
            if (size < 8) {
                throw new LoroException(file + ": not a safetensors file: " + size
                        + " bytes, shorter than the 8-byte header length");
            }
            ByteBuffer lenBuf = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN);
            readFully(ch, lenBuf, 0);
            long n = lenBuf.getLong(0);
            if (n < 0 || n > MAX_HEADER_SIZE) {
                throw new LoroException(file + ": header length " + Long.toUnsignedString(n)
                        + " exceeds the limit of " + MAX_HEADER_SIZE + " bytes");
            }
            if (8 + n > size) {
                throw new LoroException(file + ": header length " + n + " points beyond the end of the file ("
                        + size + " bytes)");
            }
            ByteBuffer header = ByteBuffer.allocate((int) n);
            readFully(ch, header, 8);
            Header h = parseHeader(file.toString(), header.array(), size - 8 - n);
            SafeTensorsFile f = new SafeTensorsFile(file, ch, 8 + n, h.tensors, h.metadata);
            ok = true;
            return f;
        } catch (IOException e) {
            throw new LoroException(file + ": cannot read safetensors file: " + LoroException.oneLine(e.toString()), e);
        } finally {
            if (!ok) {
                try {
                    ch.close();
                } catch (IOException ignored) {
                    // already failing
                }
            }
        }
    }

    private static void readFully(FileChannel ch, ByteBuffer buf, long pos) throws IOException {
        while (buf.hasRemaining()) {
            int r = ch.read(buf, pos + buf.position());
            if (r < 0) {
                throw new IOException("unexpected end of file");
            }
        }
    }

    record Header(Map<String, TensorInfo> tensors, Map<String, String> metadata) {}

    /**
     * Parses and validates a header (the N bytes after the length) against a data buffer of
     * {@code dataLength} bytes.
     */
    static Header parseHeader(String where, byte[] bytes, long dataLength) {
        String text;
        try {
            text = StandardCharsets.UTF_8.newDecoder()
                    .onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT)
                    .decode(ByteBuffer.wrap(bytes)).toString();
        } catch (CharacterCodingException e) {
            throw new LoroException(where + ": header is not valid UTF-8");
        }
        JsonNode root;
        try {
            root = JSON.readTree(text);
        } catch (JacksonException e) {
            String dup = duplicateKey(e);
            if (dup != null) {
                throw new LoroException(where + ": header has duplicate key " + q(dup)
                        + " (keys must be unique)", e);
            }
            throw new LoroException(where + ": header is not valid JSON: " + LoroException.oneLine(e.getOriginalMessage()), e);
        }
        if (root == null || root.isMissingNode()) {
            throw new LoroException(where + ": header is empty; expected a JSON object");
        }
        if (!root.isObject()) {
            throw new LoroException(where + ": header must be a JSON object, found " + root.getNodeType());
        }
        Map<String, String> metadata = new LinkedHashMap<>();
        Map<String, TensorInfo> tensors = new LinkedHashMap<>();
        for (Iterator<Map.Entry<String, JsonNode>> it = root.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> e = it.next();
            String key = e.getKey();
            JsonNode v = e.getValue();
            if (key.equals("__metadata__")) {
                if (v.isNull()) {
                    continue;
                }
                if (!v.isObject()) {
                    throw new LoroException(where + ": \"__metadata__\" must be an object of strings, found "
                            + v.getNodeType());
                }
                for (Iterator<Map.Entry<String, JsonNode>> mi = v.fields(); mi.hasNext(); ) {
                    Map.Entry<String, JsonNode> m = mi.next();
                    if (!m.getValue().isTextual()) {
                        throw new LoroException(where + ": \"__metadata__\" entry " + q(m.getKey())
                                + " must be a string, found " + m.getValue().getNodeType());
                    }
                    metadata.put(m.getKey(), m.getValue().textValue());
                }
                continue;
            }
            tensors.put(key, parseTensor(where, key, v));
        }
        validateLayout(where, tensors, dataLength);
        return new Header(tensors, metadata);
    }

    /** The key named by Jackson's duplicate-field error, or null for any other error. */
    static String duplicateKey(JacksonException e) {
        String m = e.getOriginalMessage();
        if (m == null || !m.startsWith("Duplicate field '")) {
            return null;
        }
        int a = m.indexOf('\'');
        int b = m.lastIndexOf('\'');
        return b > a ? m.substring(a + 1, b) : m;
    }

    private static TensorInfo parseTensor(String where, String name, JsonNode v) {
        String at = where + ": tensor " + q(name);
        if (!v.isObject()) {
            throw new LoroException(at + ": entry must be an object with dtype, shape, data_offsets; found "
                    + v.getNodeType());
        }
        JsonNode dt = v.get("dtype");
        if (dt == null || !dt.isTextual()) {
            throw new LoroException(at + ": \"dtype\" missing or not a string");
        }
        String dtype = dt.textValue();
        if (!Dtypes.known(dtype)) {
            throw new LoroException(at + ": unknown dtype " + q(dtype) + " (known: " + Dtypes.knownList() + ")");
        }
        JsonNode sh = v.get("shape");
        if (sh == null || !sh.isArray()) {
            throw new LoroException(at + ": \"shape\" missing or not an array");
        }
        long[] shape = new long[sh.size()];
        for (int i = 0; i < shape.length; i++) {
            shape[i] = nonNegativeLong(at + ": shape[" + i + "]", sh.get(i));
        }
        JsonNode off = v.get("data_offsets");
        if (off == null || !off.isArray() || off.size() != 2) {
            throw new LoroException(at + ": \"data_offsets\" missing or not an array of two integers [begin, end]");
        }
        long begin = nonNegativeLong(at + ": data_offsets[0]", off.get(0));
        long end = nonNegativeLong(at + ": data_offsets[1]", off.get(1));
        if (end < begin) {
            throw new LoroException(at + ": data_offsets end " + end + " is before begin " + begin);
        }
        long nbits;
        try {
            long numel = 1;
            for (long d : shape) {
                numel = Math.multiplyExact(numel, d);
            }
            nbits = Math.multiplyExact(numel, (long) Dtypes.bits(dtype));
        } catch (ArithmeticException e) {
            throw new LoroException(at + ": shape " + java.util.Arrays.toString(shape) + " with dtype " + dtype
                    + " overflows the size computation");
        }
        if (nbits % 8 != 0) {
            throw new LoroException(at + ": shape " + java.util.Arrays.toString(shape) + " of " + dtype
                    + " is not a whole number of bytes");
        }
        if (end - begin != nbits / 8) {
            throw new LoroException(at + ": shape " + java.util.Arrays.toString(shape) + " of " + dtype + " needs "
                    + (nbits / 8) + " bytes but data_offsets [" + begin + ", " + end + "] span " + (end - begin));
        }
        return new TensorInfo(name, dtype, shape, begin, end);
    }

    private static long nonNegativeLong(String at, JsonNode n) {
        if (n == null || !n.isIntegralNumber()) {
            throw new LoroException(at + " must be a non-negative integer, found "
                    + (n == null ? "nothing" : LoroException.oneLine(n.toString())));
        }
        if (!n.canConvertToLong() || n.longValue() < 0) {
            throw new LoroException(at + " must be a non-negative integer that fits 63 bits, found "
                    + LoroException.oneLine(n.toString()));
        }
        return n.longValue();
    }

    private static void validateLayout(String where, Map<String, TensorInfo> tensors, long dataLength) {
        List<TensorInfo> sorted = new ArrayList<>(tensors.values());
        sorted.sort(Comparator.comparingLong(TensorInfo::begin).thenComparingLong(TensorInfo::end));
        long expected = 0;
        for (TensorInfo t : sorted) {
            if (t.begin() != expected) {
                String what = t.begin() > expected ? "leaves a gap (previous data ends at " + expected + ")"
                        : "overlaps the previous tensor (which ends at " + expected + ")";
                throw new LoroException(where + ": tensor " + q(t.name()) + ": data_offsets [" + t.begin() + ", "
                        + t.end() + "] " + what + "; tensors must be packed back to back from offset 0");
            }
            expected = t.end();
        }
        if (expected != dataLength) {
            if (expected > dataLength) {
                TensorInfo last = sorted.get(sorted.size() - 1);
                throw new LoroException(where + ": tensor " + q(last.name()) + ": data_offsets end " + expected
                        + " is beyond the data buffer of " + dataLength + " bytes (file truncated?)");
            }
            throw new LoroException(where + ": data buffer has " + dataLength + " bytes but tensors cover only "
                    + expected + " (trailing bytes after the last tensor are not allowed)");
        }
    }

    public Map<String, TensorInfo> tensors() {
        return tensors;
    }

    public Map<String, String> metadata() {
        return metadata;
    }

    public Path path() {
        return path;
    }

    /** The tensor's entry; a {@link LoroException} naming the file and tensor if absent. */
    public TensorInfo info(String name) {
        TensorInfo info = tensors.get(name);
        if (info == null) {
            throw new LoroException(path + ": no tensor " + q(name) + " (" + tensors.size() + " tensors in file)");
        }
        return info;
    }

    private int sourceBytes(TensorInfo info, String purpose) {
        return switch (info.dtype()) {
            case "F32" -> 4;
            case "F16", "BF16" -> 2;
            case "F64" -> 8;
            default -> throw new LoroException(path + ": tensor " + q(info.name()) + ": cannot " + purpose
                    + " dtype " + info.dtype() + " (supported: F32, F16, BF16, F64)");
        };
    }

    /**
     * Loads a tensor into {@code manager} as {@code target} (FLOAT32, FLOAT64 or FLOAT16). BF16 is widened
     * in Java and never reaches the engine. The result belongs to {@code manager} only.
     */
    public NDArray load(String name, NDManager manager, DataType target) {
        ensureOpen();
        TensorInfo info = info(name);
        if (manager == null) {
            throw new LoroException(path + ": tensor " + q(name) + ": NDManager is null");
        }
        int tgtBytes = targetBytes(info, target);
        int srcBytes = sourceBytes(info, "load");
        Shape shape = new Shape(info.shape());
        long numel = info.numel();
        if (numel == 0) {
            return manager.create(shape, target);
        }
        long chunkElems = Math.max(1, chunkBytes / Math.max(srcBytes, tgtBytes));
        if (numel <= chunkElems) {
            ByteBuffer out = ByteBuffer.allocateDirect((int) (numel * tgtBytes)).order(ByteOrder.nativeOrder());
            convert(info, 0, numel, target, out);
            out.rewind();
            return manager.create(out, shape, target);
        }
        NDArray flat = manager.create(new Shape(numel), target);
        try {
            for (long s = 0; s < numel; s += chunkElems) {
                long e = Math.min(numel, s + chunkElems);
                ByteBuffer out = ByteBuffer.allocateDirect((int) ((e - s) * tgtBytes)).order(ByteOrder.nativeOrder());
                convert(info, s, e - s, target, out);
                out.rewind();
                try (NDManager tmp = manager.newSubManager()) {
                    NDArray part = tmp.create(out, new Shape(e - s), target);
                    flat.set(new NDIndex().addSliceDim(s, e), part);
                }
            }
            return flat.reshape(shape);
        } finally {
            flat.close();
        }
    }

    private int targetBytes(TensorInfo info, DataType target) {
        if (target == DataType.FLOAT32) {
            return 4;
        } else if (target == DataType.FLOAT64) {
            return 8;
        } else if (target == DataType.FLOAT16) {
            return 2;
        }
        throw new LoroException(path + ": tensor " + q(info.name()) + ": cannot load as " + target
                + " (allowed targets: FLOAT32, FLOAT64, FLOAT16)");
    }

    /** Reads a tensor widened to float (F64 is narrowed); for small tensors and tests. */
    public float[] readFloats(String name) {
        ensureOpen();
        TensorInfo info = info(name);
        int srcBytes = sourceBytes(info, "read");
        long numel = info.numel();
        if (numel > Integer.MAX_VALUE - 8) {
            throw new LoroException(path + ": tensor " + q(name) + " has " + numel
                    + " elements, too many for a float[]; use load()");
        }
        float[] result = new float[(int) numel];
        long chunkElems = Math.max(1, chunkBytes / Math.max(srcBytes, 4));
        for (long s = 0; s < numel; s += chunkElems) {
            long n = Math.min(numel - s, chunkElems);
            ByteBuffer out = ByteBuffer.allocate((int) (n * 4)).order(ByteOrder.nativeOrder());
            convert(info, s, n, DataType.FLOAT32, out);
            out.asFloatBuffer().get(result, (int) s, (int) n);
        }
        return result;
    }

    /** Converts elements [start, start+count) of a tensor into {@code out} (native order) as {@code target}. */
    private void convert(TensorInfo info, long start, long count, DataType target, ByteBuffer out) {
        int srcBytes = sourceBytes(info, "load");
        ByteBuffer src;
        try {
            src = channel.map(FileChannel.MapMode.READ_ONLY, dataStart + info.begin() + start * srcBytes,
                    count * srcBytes).order(ByteOrder.LITTLE_ENDIAN);
        } catch (IOException e) {
            throw new LoroException(path + ": tensor " + q(info.name()) + ": cannot map data: "
                    + LoroException.oneLine(e.toString()), e);
        }
        int n = (int) count;
        String dt = info.dtype();
        if (target == DataType.FLOAT32) {
            var o = out.asFloatBuffer();
            switch (dt) {
                case "F32" -> o.put(src.asFloatBuffer());
                case "F16" -> {
                    var s = src.asShortBuffer();
                    for (int i = 0; i < n; i++) {
                        o.put(i, Bf16.fp16ToFloat(s.get(i)));
                    }
                }
                case "BF16" -> {
                    var s = src.asShortBuffer();
                    var oi = out.asIntBuffer();
                    for (int i = 0; i < n; i++) {
                        oi.put(i, (s.get(i) & 0xFFFF) << 16);
                    }
                }
                default -> {
                    var s = src.asDoubleBuffer();
                    for (int i = 0; i < n; i++) {
                        o.put(i, (float) s.get(i));
                    }
                }
            }
        } else if (target == DataType.FLOAT64) {
            var o = out.asDoubleBuffer();
            switch (dt) {
                case "F64" -> o.put(src.asDoubleBuffer());
                case "F32" -> {
                    var s = src.asFloatBuffer();
                    for (int i = 0; i < n; i++) {
                        o.put(i, s.get(i));
                    }
                }
                case "F16" -> {
                    var s = src.asShortBuffer();
                    for (int i = 0; i < n; i++) {
                        o.put(i, Bf16.fp16ToFloat(s.get(i)));
                    }
                }
                default -> {
                    var s = src.asShortBuffer();
                    for (int i = 0; i < n; i++) {
                        o.put(i, Bf16.toFloat(s.get(i)));
                    }
                }
            }
        } else { // FLOAT16: every narrowing is range-checked, a finite value never becomes inf
            var o = out.asShortBuffer();
            switch (dt) {
                case "F16" -> o.put(src.asShortBuffer());
                case "F32" -> {
                    var s = src.asFloatBuffer();
                    for (int i = 0; i < n; i++) {
                        o.put(i, toFp16(s.get(i), info, start + i));
                    }
                }
                case "BF16" -> {
                    var s = src.asShortBuffer();
                    for (int i = 0; i < n; i++) {
                        o.put(i, toFp16(Bf16.toFloat(s.get(i)), info, start + i));
                    }
                }
                default -> {
                    var s = src.asDoubleBuffer();
                    for (int i = 0; i < n; i++) {
                        double d = s.get(i);
                        o.put(i, toFp16(Math.abs(d) > Float.MAX_VALUE ? (float) Math.copySign(1e38, d) : (float) d, info, start + i));
                    }
                }
            }
        }
    }

    /**
     * Narrows to IEEE half with round-to-nearest-even; a finite value that would round to ±inf
     * (|v| ≥ 65520: BF16 and F32 reach 3.4e38, half only 65504) is an error naming the tensor and
     * element, never a silent inf in the weights.
     */
    private short toFp16(float v, TensorInfo info, long index) {
        short h = Bf16.floatToFp16(v);
        if ((h & 0x7FFF) == 0x7C00 && Float.isFinite(v)) {
            throw new LoroException(path + ": tensor " + q(info.name()) + " element " + index + " is " + v
                    + ", beyond float16's range (|v| <= 65504); it would become inf in fp16 — load this checkpoint in"
                    + " float32 instead");
        }
        return h;
    }

    private void ensureOpen() {
        if (closed) {
            throw new LoroException(path + ": safetensors file is closed");
        }
    }

    public boolean isClosed() {
        return closed;
    }

    @Override
    public void close() {
        if (!closed) {
            closed = true;
            try {
                channel.close();
            } catch (IOException ignored) {
                // nothing useful to do
            }
        }
    }

    @Override
    public String toString() {
        return "SafeTensorsFile[" + path + ", " + tensors.size() + " tensors]";
    }

}
