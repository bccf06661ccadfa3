package ai.loro.export;

import ai.loro.core.LoroException;
import ai.loro.core.io.AtomicFiles;
import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Writes a GGUF v3 file (docs/gguf.md): header, key/value metadata, tensor infos, then the aligned
 * tensor data. Tensors are added as producers of their encoded bytes and encoded one at a time while
 * the file is written, so a model never needs two copies in memory. The file is written under a
 * temporary sibling name and renamed into place: a failed export leaves nothing at {@code out}.
 */
public final class GgufWriter {
    static final int VERSION = 3;
    public static final int ALIGNMENT = 32;

    /** GGUF metadata value types. */
    enum ValueType {
        U8(0), I8(1), U16(2), I16(3), U32(4), I32(5), F32(6), BOOL(7), STRING(8), ARRAY(9), U64(10), I64(11), F64(12);

        final int code;

        ValueType(int code) {
            this.code = code;
        }
    }

    /** One metadata value: its type, and for arrays the element type. */
    record Value(ValueType type, ValueType elementType, Object value) {}

    /** The bytes of one tensor in its GGUF type, produced when the writer reaches it. */
    public interface TensorBytes {
        byte[] encode();
    }

    /**
     * @param dims shape in GGUF order (ne[0] first: the reverse of the torch shape)
     */
    record Tensor(String name, long[] dims, GgmlType type, TensorBytes bytes) {}

    private final Map<String, Value> metadata = new LinkedHashMap<>();
    private final List<Tensor> tensors = new ArrayList<>();

    public GgufWriter putString(String key, String v) {
        return put(key, new Value(ValueType.STRING, null, v));
    }

    public GgufWriter putU32(String key, long v) {
        if (v < 0 || v > 0xFFFFFFFFL) {
            throw new LoroException("GGUF key " + key + ": " + v + " does not fit a u32");
        }
        return put(key, new Value(ValueType.U32, null, v));
    }

    public GgufWriter putI32(String key, int v) {
        return put(key, new Value(ValueType.I32, null, v));
    }

    public GgufWriter putF32(String key, double v) {
        return put(key, new Value(ValueType.F32, null, (float) v));
    }

    public GgufWriter putBool(String key, boolean v) {
        return put(key, new Value(ValueType.BOOL, null, v));
    }

    public GgufWriter putStrings(String key, List<String> v) {
        return put(key, new Value(ValueType.ARRAY, ValueType.STRING, List.copyOf(v)));
    }

    public GgufWriter putI32s(String key, int[] v) {
        return put(key, new Value(ValueType.ARRAY, ValueType.I32, v.clone()));
    }

    private GgufWriter put(String key, Value v) {
        if (metadata.put(key, v) != null) {
            throw new IllegalStateException("GGUF key written twice: " + key);
        }
        return this;
    }

    /** Adds a tensor; {@code torchShape} is its shape as torch/safetensors write it (reversed for GGUF here). */
    public GgufWriter addTensor(String name, long[] torchShape, GgmlType type, TensorBytes bytes) {
        long[] dims = new long[torchShape.length];
        for (int i = 0; i < dims.length; i++) {
            dims[i] = torchShape[torchShape.length - 1 - i];
        }
        for (Tensor t : tensors) {
            if (t.name().equals(name)) {
                throw new IllegalStateException("GGUF tensor written twice: " + name);
            }
        }
        tensors.add(new Tensor(name, dims, type, bytes));
        return this;
    }

    /** Writes the file: to a temporary name beside {@code out}, renamed into place when complete; returns its size. */
    public long write(Path out) {
        Path abs = out.toAbsolutePath();
        Path tmp = AtomicFiles.tempSibling(abs);
        try {
            Files.createDirectories(abs.getParent());
            try (OutputStream os = new BufferedOutputStream(Files.newOutputStream(tmp), 1 << 20)) {
                writeTo(os);
            }
            Files.move(tmp, abs, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
            return Files.size(abs);
        } catch (IOException e) {
            throw new LoroException(out + ": cannot write GGUF file: " + e.getMessage(), e);
        } finally {
            try {
                Files.deleteIfExists(tmp);
            } catch (IOException ignored) {
                // a leftover ".<name>.tmp-*" is never read
            }
        }
    }

    private void writeTo(OutputStream os) throws IOException {
        Sink s = new Sink(os);
        s.bytes("GGUF".getBytes(StandardCharsets.US_ASCII));
        s.u32(VERSION);
        s.u64(tensors.size());
        s.u64(metadata.size());
        for (Map.Entry<String, Value> e : metadata.entrySet()) {
            s.string(e.getKey());
            s.u32(e.getValue().type().code);
            s.value(e.getValue());
        }
        long offset = 0;
        long[] offsets = new long[tensors.size()];
        for (int i = 0; i < tensors.size(); i++) {
            Tensor t = tensors.get(i);
            offsets[i] = offset;
            offset = align(offset + t.type().byteSize(t.dims()));
        }
        for (int i = 0; i < tensors.size(); i++) {
            Tensor t = tensors.get(i);
            s.string(t.name());
            s.u32(t.dims().length);
            for (long d : t.dims()) {
                s.u64(d);
            }
            s.u32(t.type().code);
            s.u64(offsets[i]);
        }
        s.pad();
        long dataStart = s.written;
        for (int i = 0; i < tensors.size(); i++) {
            Tensor t = tensors.get(i);
            byte[] data = t.bytes().encode();
            long expected = t.type().byteSize(t.dims());
            if (data.length != expected) {
                throw new IllegalStateException("tensor " + t.name() + ": " + data.length + " bytes, expected " + expected);
            }
            if (s.written - dataStart != offsets[i]) {
                throw new IllegalStateException("tensor " + t.name() + " misplaced");
            }
            s.bytes(data);
            s.pad();
        }
    }

    static long align(long n) {
        return (n + ALIGNMENT - 1) / ALIGNMENT * ALIGNMENT;
    }

    /** Little-endian primitive output, counting bytes for alignment. */
    private static final class Sink {
        final OutputStream os;
        final ByteBuffer scratch = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN);
        long written;

        Sink(OutputStream os) {
            this.os = os;
        }

        void bytes(byte[] b) throws IOException {
            os.write(b);
            written += b.length;
        }

        private void scratch(int n) throws IOException {
            os.write(scratch.array(), 0, n);
            written += n;
            scratch.clear();
        }

        void u32(long v) throws IOException {
            scratch.putInt((int) v);
            scratch(4);
        }

        void u64(long v) throws IOException {
            scratch.putLong(v);
            scratch(8);
        }

        void string(String v) throws IOException {
            byte[] b = v.getBytes(StandardCharsets.UTF_8);
            u64(b.length);
            bytes(b);
        }

        void pad() throws IOException {
            long n = align(written) - written;
            for (long i = 0; i < n; i++) {
                os.write(0);
            }
            written += n;
        }

        void value(Value v) throws IOException {
            switch (v.type()) {
                case STRING -> string((String) v.value());
                case U32 -> u32((Long) v.value());
                case I32 -> u32((Integer) v.value());
                case F32 -> u32(Float.floatToRawIntBits((Float) v.value()));
                case BOOL -> bytes(new byte[] {(byte) ((Boolean) v.value() ? 1 : 0)});
                case ARRAY -> {
                    u32(v.elementType().code);
                    if (v.elementType() == ValueType.STRING) {
                        @SuppressWarnings("unchecked")
                        List<String> items = (List<String>) v.value();
                        u64(items.size());
                        for (String item : items) {
                            string(item);
                        }
                    } else {
                        int[] items = (int[]) v.value();
                        u64(items.length);
                        for (int item : items) {
                            u32(item);
                        }
                    }
                }
                default -> throw new IllegalStateException("unwritten GGUF value type " + v.type());
            }
        }
    }
}
