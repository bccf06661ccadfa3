package ai.loro.core.quant;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import java.util.stream.IntStream;

/**
 * Per-output-channel absmax symmetric int8: row {@code r} stores {@code q = round(w / s_r)} in
 * [-127, 127] with {@code s_r = max|w_r| / 127}, so {@code |w - q·s_r| ≤ s_r / 2}. Storage: one INT8
 * per element plus one FP32 scale per row.
 */
public final class Int8Weights implements QuantizedWeight {
    private final Shape shape;
    private final DataType dtype;
    private final NDArray codes; // INT8 (out, in)
    private final NDArray scales; // FP32 (out, 1)

    private Int8Weights(Shape shape, DataType dtype, NDArray codes, NDArray scales) {
        this.shape = shape;
        this.dtype = dtype;
        this.codes = codes;
        this.scales = scales;
    }

    /** Quantizes {@code w} (out, in); the codes and scales go to {@code store}; {@code w} is left as is. */
    public static Int8Weights quantize(NDArray w, NDManager store) {
        Shape shape = w.getShape();
        if (shape.dimension() != 2) {
            throw new IllegalArgumentException("int8 quantization wants a 2-d weight, got " + shape);
        }
        int rows = (int) shape.get(0);
        int cols = (int) shape.get(1);
        float[] v = QuantizedWeight.hostFloats(w);
        byte[] q = new byte[v.length];
        float[] s = new float[rows];
        IntStream.range(0, rows).parallel().forEach(r -> {
            int base = r * cols;
            float absmax = 0;
            for (int c = 0; c < cols; c++) {
                absmax = Math.max(absmax, Math.abs(v[base + c]));
            }
            float scale = absmax / 127f;
            s[r] = scale;
            for (int c = 0; c < cols; c++) {
                q[base + c] = scale == 0 ? 0 : (byte) Math.max(-127, Math.min(127, Math.rint(v[base + c] / scale)));
            }
        });
        NDArray codes = store.create(q, shape); // INT8
        NDArray scales = store.create(s, new Shape(rows, 1));
        return new Int8Weights(shape, w.getDataType(), codes, scales);
    }

    @Override
    public NDArray dequantize(NDManager m) {
        // the first operand is a step array, so every result joins the step's manager (never the store's):
        // (1, 1) FP32 · INT8 (out, in) promotes to FP32
        NDArray one = m.ones(new Shape(1, 1), DataType.FLOAT32);
        NDArray f = one.mul(codes);
        NDArray w = f.mul(scales); // (out, in) · (out, 1)
        f.close();
        one.close();
        return QuantizedWeight.cast(w, dtype);
    }

    /** The INT8 codes (out, in). */
    public NDArray codes() {
        return codes;
    }

    /** The per-row FP32 scales (out, 1). */
    public NDArray scales() {
        return scales;
    }

    @Override
    public Shape shape() {
        return shape;
    }

    @Override
    public DataType dtype() {
        return dtype;
    }

    @Override
    public String mode() {
        return "int8";
    }

    @Override
    public long storageBytes() {
        return shape.size() + 4L * shape.get(0);
    }

    @Override
    public void close() {
        codes.close();
        scales.close();
    }
}
