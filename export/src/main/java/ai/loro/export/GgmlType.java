package ai.loro.export;

import ai.loro.core.LoroException;
import ai.loro.core.io.Bf16;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * The ggml tensor types Loro writes, with their encoders (docs/gguf.md). Q8_0 stores blocks of 32
 * values along ne[0] (a row of the HF [out, in] matrix): an fp16 scale {@code d = max|x| / 127} and 32
 * int8 codes {@code round(x / d)}, rounding half away from zero, so {@code x ≈ q·d}.
 */
public enum GgmlType {
    F32(0, 1, 4), F16(1, 1, 2), Q8_0(8, 32, 34);

    public final int code;
    final int blockValues;
    final int blockBytes;

    GgmlType(int code, int blockValues, int blockBytes) {
        this.code = code;
        this.blockValues = blockValues;
        this.blockBytes = blockBytes;
    }

    /** Bytes of a tensor of GGUF dims {@code ne} (ne[0] must be a multiple of the block size). */
    long byteSize(long[] ne) {
        long n = 1;
        for (long d : ne) {
            n *= d;
        }
        if (ne[0] % blockValues != 0) {
            throw new IllegalStateException(this + " needs ne[0] divisible by " + blockValues + ", got " + ne[0]);
        }
        return n / blockValues * blockBytes;
    }

    /** The user's {@code --dtype}: f32, f16 or q8_0. */
    public static GgmlType parse(String dtype, String option, boolean allowQuantized) {
        String allowed = allowQuantized ? "f32, f16 or q8_0" : "f32 or f16";
        return switch (dtype == null ? "f32" : dtype.toLowerCase(java.util.Locale.ROOT)) {
            case "f32" -> F32;
            case "f16" -> F16;
            case "q8_0" -> {
                if (!allowQuantized) {
                    throw new LoroException(option + " must be " + allowed + ", got " + dtype);
                }
                yield Q8_0;
            }
            default -> throw new LoroException(option + " must be " + allowed + ", got " + dtype);
        };
    }

    /** The type a matrix with rows of {@code rowLength} values gets: Q8_0 needs whole blocks, else F16. */
    GgmlType forRowLength(long rowLength) {
        return this == Q8_0 && rowLength % 32 != 0 ? F16 : this;
    }

    /** Encodes {@code values} (row-major, rows of {@code ne[0]} values) in this type. */
    byte[] encode(float[] values, String tensor) {
        ByteBuffer b = ByteBuffer.allocate(Math.toIntExact((long) values.length / blockValues * blockBytes))
                .order(ByteOrder.LITTLE_ENDIAN);
        switch (this) {
            case F32 -> {
                for (float v : values) {
                    b.putFloat(v);
                }
            }
            case F16 -> {
                for (int i = 0; i < values.length; i++) {
                    b.putShort(toF16(values[i], tensor, i));
                }
            }
            case Q8_0 -> {
                for (int start = 0; start < values.length; start += 32) {
                    float amax = 0;
                    for (int j = 0; j < 32; j++) {
                        amax = Math.max(amax, Math.abs(values[start + j]));
                    }
                    float d = amax / 127f;
                    b.putShort(toF16(d, tensor, start));
                    for (int j = 0; j < 32; j++) {
                        b.put(d == 0 ? 0 : (byte) roundHalfAway(values[start + j] / d));
                    }
                }
            }
            default -> throw new IllegalStateException();
        }
        return b.array();
    }

    private static short toF16(float v, String tensor, int index) {
        if (!Float.isFinite(v) || Math.abs(v) >= 65520f) {
            throw new LoroException("tensor " + tensor + " element " + index + " = " + v
                    + " does not fit fp16 (|v| < 65504); export with --dtype f32");
        }
        return Bf16.floatToFp16(v);
    }

    static int roundHalfAway(float x) {
        double a = Math.floor(Math.abs((double) x) + 0.5);
        return (int) (x < 0 ? -a : a);
    }
}
