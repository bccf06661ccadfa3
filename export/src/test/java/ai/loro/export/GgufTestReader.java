package ai.loro.export;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** An independent GGUF v3 reader for tests (docs/gguf.md): metadata values and tensor infos + raw bytes. */
final class GgufTestReader {
    record TensorInfo(String name, long[] dims, int type, long offset) {}

    final Map<String, Object> metadata = new LinkedHashMap<>();
    final Map<String, TensorInfo> tensors = new LinkedHashMap<>();
    final long dataStart;
    final ByteBuffer buf;
    final int version;

    GgufTestReader(Path file) throws IOException {
        buf = ByteBuffer.wrap(Files.readAllBytes(file)).order(ByteOrder.LITTLE_ENDIAN);
        byte[] magic = new byte[4];
        buf.get(magic);
        if (!new String(magic, StandardCharsets.US_ASCII).equals("GGUF")) {
            throw new IOException("not GGUF");
        }
        version = buf.getInt();
        long nTensors = buf.getLong();
        long nKv = buf.getLong();
        for (long i = 0; i < nKv; i++) {
            String key = string();
            metadata.put(key, value(buf.getInt()));
        }
        for (long i = 0; i < nTensors; i++) {
            String name = string();
            int nd = buf.getInt();
            long[] dims = new long[nd];
            for (int d = 0; d < nd; d++) {
                dims[d] = buf.getLong();
            }
            tensors.put(name, new TensorInfo(name, dims, buf.getInt(), buf.getLong()));
        }
        long alignment = metadata.containsKey("general.alignment") ? ((Number) metadata.get("general.alignment")).longValue() : 32;
        dataStart = (buf.position() + alignment - 1) / alignment * alignment;
    }

    private String string() {
        byte[] b = new byte[Math.toIntExact(buf.getLong())];
        buf.get(b);
        return new String(b, StandardCharsets.UTF_8);
    }

    private Object value(int type) {
        return switch (type) {
            case 0, 1 -> buf.get();
            case 4 -> Integer.toUnsignedLong(buf.getInt());
            case 5 -> buf.getInt();
            case 6 -> buf.getFloat();
            case 7 -> buf.get() != 0;
            case 8 -> string();
            case 9 -> {
                int et = buf.getInt();
                long n = buf.getLong();
                List<Object> items = new ArrayList<>();
                for (long i = 0; i < n; i++) {
                    items.add(value(et));
                }
                yield items;
            }
            case 10, 11 -> buf.getLong();
            case 12 -> buf.getDouble();
            default -> throw new IllegalStateException("value type " + type);
        };
    }

    /** An F32 tensor's values in file order. */
    float[] f32(String name) {
        TensorInfo t = tensors.get(name);
        if (t.type() != 0) {
            throw new IllegalStateException(name + " is type " + t.type());
        }
        long n = 1;
        for (long d : t.dims()) {
            n *= d;
        }
        float[] out = new float[Math.toIntExact(n)];
        ByteBuffer b = buf.duplicate().order(ByteOrder.LITTLE_ENDIAN);
        b.position(Math.toIntExact(dataStart + t.offset()));
        b.asFloatBuffer().get(out);
        return out;
    }

    /** A tensor's raw bytes. */
    byte[] raw(String name, int length) {
        TensorInfo t = tensors.get(name);
        byte[] out = new byte[length];
        ByteBuffer b = buf.duplicate();
        b.position(Math.toIntExact(dataStart + t.offset()));
        b.get(out);
        return out;
    }
}
