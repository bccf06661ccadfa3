package ai.loro.core.io;

import java.util.Arrays;

/**
 * One tensor entry of a safetensors header.
 *
 * @param name  the tensor's key
 * @param dtype the safetensors dtype string ("F32", "F16", "BF16", ...)
 * @param shape the dimensions, row-major; empty for a 0-rank tensor
 * @param begin start offset, relative to the start of the data buffer (after the header)
 * @param end   one-past end offset, relative to the start of the data buffer
 */
public record TensorInfo(String name, String dtype, long[] shape, long begin, long end) {
    public TensorInfo {
        shape = shape.clone();
    }

    @Override
    public long[] shape() {
        return shape.clone();
    }

    /** Number of elements: the product of the shape (1 for a 0-rank tensor). */
    public long numel() {
        long n = 1;
        for (long d : shape) {
            n = Math.multiplyExact(n, d);
        }
        return n;
    }

    /** Number of bytes the tensor occupies in the file. */
    public long byteSize() {
        return end - begin;
    }

    /** The shape as a DJL {@link ai.djl.ndarray.types.Shape}. */
    public ai.djl.ndarray.types.Shape djlShape() {
        return new ai.djl.ndarray.types.Shape(shape);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof TensorInfo t
                && name.equals(t.name)
                && dtype.equals(t.dtype)
                && Arrays.equals(shape, t.shape)
                && begin == t.begin
                && end == t.end;
    }

    @Override
    public int hashCode() {
        return ((name.hashCode() * 31 + dtype.hashCode()) * 31 + Arrays.hashCode(shape)) * 31
                + Long.hashCode(begin) * 7 + Long.hashCode(end);
    }

    @Override
    public String toString() {
        return "TensorInfo[name=" + name + ", dtype=" + dtype + ", shape=" + Arrays.toString(shape)
                + ", begin=" + begin + ", end=" + end + "]";
    }
}
