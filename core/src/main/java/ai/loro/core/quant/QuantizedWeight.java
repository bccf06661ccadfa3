package ai.loro.core.quant;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;

/**
 * A frozen (out, in) projection weight held in a compressed form; the forward pass rebuilds the
 * full-precision matrix on the fly with {@link #dequantize(NDManager)}.
 */
public interface QuantizedWeight extends AutoCloseable {
    /** The weight's shape, (out, in). */
    Shape shape();

    /** The compute dtype {@link #dequantize} returns (FP32 or FP16). */
    DataType dtype();

    /** "int8" or "nf4". */
    String mode();

    /**
     * The full-precision weight, a new array owned by {@code m} (every temporary too): give it the
     * step's manager so the matrix dies with the step.
     */
    NDArray dequantize(NDManager m);

    /** Bytes actually stored: codes, scales and (NF4 double quantization) the second-level constants. */
    long storageBytes();

    /** {@link #storageBytes()} per weight element. */
    default double bytesPerParameter() {
        return storageBytes() / (double) shape().size();
    }

    @Override
    void close();

    /** {@code a} as FP32 floats on the host (a copy). */
    static float[] hostFloats(NDArray a) {
        if (a.getDataType() == DataType.FLOAT32) {
            return a.toFloatArray();
        }
        try (NDArray f = a.toType(DataType.FLOAT32, true)) {
            return f.toFloatArray();
        }
    }

    /** Casts {@code a} (FP32, owned by the caller's manager) to {@code dtype}, closing {@code a} when a copy was made. */
    static NDArray cast(NDArray a, DataType dtype) {
        if (a.getDataType() == dtype) {
            return a;
        }
        NDArray t = a.toType(dtype, false);
        a.close();
        return t;
    }
}
