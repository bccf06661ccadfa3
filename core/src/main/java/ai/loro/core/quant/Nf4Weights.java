package ai.loro.core.quant;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.ndarray.types.SparseFormat;
import ai.djl.nn.core.Embedding;
import java.nio.ByteBuffer;
import java.util.stream.IntStream;

/**
 * 4-bit NormalFloat (QLoRA, Dettmers et al. 2023), laid out as bitsandbytes does: the weight is
 * flattened row-major and cut into blocks of {@value #BLOCK}; each block stores its absmax and one
 * 4-bit code per element, the index of the level of {@link #LEVELS} nearest to {@code w / absmax};
 * two codes share a byte (the first in the high nibble). With double quantization the FP32 block
 * absmaxes are themselves quantized as QLoRA does: minus their mean, then 8-bit blockwise (blocks of
 * {@value #DQ_BLOCK}) with bitsandbytes' signed dynamic map, keeping one FP32 absmax per 256 blocks
 * and the mean.
 *
 * <p>Dequantization is a handful of large ops: one embedding lookup of every byte in a 256 × 2 table
 * (both nibbles' levels at once), a multiply by the block scales, reshapes.
 */
public final class Nf4Weights implements QuantizedWeight {
    public static final int BLOCK = 64;
    public static final int DQ_BLOCK = 256;

    /** bitsandbytes' NF4 table ({@code get_4bit_type("nf4")}), code 0..15. */
    public static final float[] LEVELS = {
        -1.0f, -0.6961928009986877f, -0.5250730514526367f, -0.39491748809814453f, -0.28444138169288635f,
        -0.18477343022823334f, -0.09105003625154495f, 0.0f, 0.07958029955625534f, 0.16093020141124725f,
        0.24611230194568634f, 0.33791524171829224f, 0.44070982933044434f, 0.5626170039176941f,
        0.7229568362236023f, 1.0f};

    /** The code of level 0.0, used for padding. */
    static final int ZERO_CODE = 7;

    private static final float[] MIDPOINTS = midpoints(LEVELS);
    /** bitsandbytes' {@code create_dynamic_map(signed=True)}: 256 sorted values in [-1, 1]. */
    public static final float[] DYNAMIC_MAP = dynamicMap();
    private static final float[] DYNAMIC_MIDPOINTS = midpoints(DYNAMIC_MAP);
    private static final int DYNAMIC_ZERO = java.util.Arrays.binarySearch(DYNAMIC_MAP, 0f);

    private final Shape shape;
    private final DataType dtype;
    private final long numel;
    private final int blocks;
    private final NDArray packed; // UINT8 (blocks · 32)
    private final NDArray pairTable; // FP32 (256, 2): byte → (level[hi], level[lo])
    // plain absmax
    private final NDArray absmax; // FP32 (blocks, 1), or null with double quantization
    // double quantization
    private final NDArray absmaxCodes; // UINT8 (blocks2 · 256)
    private final NDArray absmax2; // FP32 (blocks2, 1)
    private final float offset;
    private final NDArray dynamicTable; // FP32 (256, 1)

    private Nf4Weights(Shape shape, DataType dtype, int blocks, NDArray packed, NDArray pairTable, NDArray absmax,
                       NDArray absmaxCodes, NDArray absmax2, float offset, NDArray dynamicTable) {
        this.shape = shape;
        this.dtype = dtype;
        this.numel = shape.size();
        this.blocks = blocks;
        this.packed = packed;
        this.pairTable = pairTable;
        this.absmax = absmax;
        this.absmaxCodes = absmaxCodes;
        this.absmax2 = absmax2;
        this.offset = offset;
        this.dynamicTable = dynamicTable;
    }

    /** The host-side result of quantizing: codes packed two per byte, block absmaxes and (optionally) their quantization. */
    public record Host(byte[] packed, float[] absmax, byte[] absmaxCodes, float[] absmax2, float offset) {
        /** The block scales as dequantization sees them (reconstructed when double-quantized). */
        public float[] scales() {
            if (absmaxCodes == null) {
                return absmax;
            }
            float[] s = new float[absmax.length];
            for (int b = 0; b < s.length; b++) {
                s[b] = DYNAMIC_MAP[absmaxCodes[b] & 0xFF] * absmax2[b / DQ_BLOCK] + offset;
            }
            return s;
        }
    }

    /** Quantizes {@code w} (any shape, FP32/FP16) onto {@code store}; {@code w} is left as is. */
    public static Nf4Weights quantize(NDArray w, NDManager store, boolean doubleQuant) {
        Shape shape = w.getShape();
        Host h = quantizeHost(QuantizedWeight.hostFloats(w), doubleQuant);
        int blocks = h.absmax().length;
        NDArray packed = store.create(ByteBuffer.wrap(h.packed()), new Shape(h.packed().length), DataType.UINT8);
        float[] pairs = new float[512];
        for (int b = 0; b < 256; b++) {
            pairs[2 * b] = LEVELS[b >>> 4];
            pairs[2 * b + 1] = LEVELS[b & 15];
        }
        NDArray pairTable = store.create(pairs, new Shape(256, 2));
        if (!doubleQuant) {
            return new Nf4Weights(shape, w.getDataType(), blocks, packed, pairTable,
                    store.create(h.absmax(), new Shape(blocks, 1)), null, null, 0, null);
        }
        NDArray codes = store.create(ByteBuffer.wrap(h.absmaxCodes()), new Shape(h.absmaxCodes().length), DataType.UINT8);
        NDArray absmax2 = store.create(h.absmax2(), new Shape(h.absmax2().length, 1));
        NDArray dyn = store.create(DYNAMIC_MAP, new Shape(256, 1));
        return new Nf4Weights(shape, w.getDataType(), blocks, packed, pairTable, null, codes, absmax2, h.offset(), dyn);
    }

    /** The quantization itself, on the host: {@code values} row-major. */
    public static Host quantizeHost(float[] values, boolean doubleQuant) {
        int n = values.length;
        int blocks = (n + BLOCK - 1) / BLOCK;
        float[] absmax = new float[blocks];
        byte[] packed = new byte[blocks * (BLOCK / 2)];
        IntStream.range(0, blocks).parallel().forEach(b -> {
            int start = b * BLOCK;
            int end = Math.min(n, start + BLOCK);
            float m = 0;
            for (int i = start; i < end; i++) {
                m = Math.max(m, Math.abs(values[i]));
            }
            absmax[b] = m;
            for (int i = start; i < start + BLOCK; i += 2) {
                int hi = i < end ? nearestNf4(m == 0 ? 0 : values[i] / m) : ZERO_CODE;
                int lo = i + 1 < end ? nearestNf4(m == 0 ? 0 : values[i + 1] / m) : ZERO_CODE;
                packed[i / 2] = pack(hi, lo);
            }
        });
        if (!doubleQuant) {
            return new Host(packed, absmax, null, null, 0);
        }
        double sum = 0;
        for (float a : absmax) {
            sum += a;
        }
        float offset = (float) (sum / blocks);
        int blocks2 = (blocks + DQ_BLOCK - 1) / DQ_BLOCK;
        float[] absmax2 = new float[blocks2];
        byte[] codes = new byte[blocks2 * DQ_BLOCK];
        java.util.Arrays.fill(codes, (byte) DYNAMIC_ZERO);
        for (int j = 0; j < blocks2; j++) {
            int start = j * DQ_BLOCK;
            int end = Math.min(blocks, start + DQ_BLOCK);
            float m = 0;
            for (int b = start; b < end; b++) {
                m = Math.max(m, Math.abs(absmax[b] - offset));
            }
            absmax2[j] = m;
            for (int b = start; b < end; b++) {
                codes[b] = (byte) (m == 0 ? DYNAMIC_ZERO : nearest(DYNAMIC_MIDPOINTS, (absmax[b] - offset) / m));
            }
        }
        return new Host(packed, absmax, codes, absmax2, offset);
    }

    /** The code whose level is nearest to {@code x} (x in [-1, 1]); ties go to the lower level. */
    public static int nearestNf4(float x) {
        return nearest(MIDPOINTS, x);
    }

    /** Number of midpoints strictly below {@code x}: the index of the nearest sorted level. */
    private static int nearest(float[] mid, float x) {
        int lo = 0;
        int hi = mid.length; // answer in [0, mid.length]
        while (lo < hi) {
            int k = (lo + hi) >>> 1;
            if (x > mid[k]) {
                lo = k + 1;
            } else {
                hi = k;
            }
        }
        return lo;
    }

    /** Two 4-bit codes in one byte, {@code hi} first (bitsandbytes' order). */
    public static byte pack(int hi, int lo) {
        return (byte) ((hi << 4) | (lo & 15));
    }

    /** The codes of a packed array, two per byte, high nibble first. */
    public static int[] unpack(byte[] packed) {
        int[] codes = new int[packed.length * 2];
        for (int i = 0; i < packed.length; i++) {
            codes[2 * i] = (packed[i] >>> 4) & 15;
            codes[2 * i + 1] = packed[i] & 15;
        }
        return codes;
    }

    private static float[] midpoints(float[] levels) {
        float[] m = new float[levels.length - 1];
        for (int i = 0; i < m.length; i++) {
            m[i] = (levels[i] + levels[i + 1]) / 2;
        }
        return m;
    }

    /**
     * bitsandbytes' {@code create_dynamic_map(signed=True, max_exponent_bits=7, total_bits=8)}: for
     * exponent i = 0..6, the midpoints of linspace(0.1, 1, 2^i + 1) scaled by 10^(i-6), both signs,
     * then 0 and 1; sorted.
     */
    static float[] dynamicMap() {
        float[] data = new float[256];
        int k = 0;
        for (int i = 0; i < 7; i++) {
            int items = (1 << i) + 1;
            for (int j = 0; j + 1 < items; j++) {
                double a = 0.1 + 0.9 * j / (items - 1);
                double b = 0.1 + 0.9 * (j + 1) / (items - 1);
                float mean = (float) (Math.pow(10, i - 6) * (a + b) / 2);
                data[k++] = mean;
                data[k++] = -mean;
            }
        }
        data[k++] = 0f;
        data[k++] = 1f;
        if (k != 256) {
            throw new AssertionError(k);
        }
        java.util.Arrays.sort(data);
        return data;
    }

    /** The block scales (blocks, 1) FP32 on {@code m}: stored, or rebuilt from the double quantization. */
    public NDArray blockScales(NDManager m) {
        if (absmax != null) {
            NDArray s = absmax.duplicate();
            s.attach(m);
            return s;
        }
        NDArray idx = indices(absmaxCodes, m);
        NDArray s = Embedding.embedding(idx, dynamicTable, SparseFormat.DENSE).singletonOrThrow() // (blocks2·256, 1)
                .reshape(-1, DQ_BLOCK).mul(absmax2).add(offset).reshape(-1, 1);
        if (s.getShape().get(0) != blocks) {
            s = s.get(new NDIndex(":{}", blocks));
        }
        return s;
    }

    /**
     * UINT8 codes as INT32 lookup indices on {@code m}: a (1,) INT32 zero of the step plus the codes
     * promotes to INT32 and, being the first operand, puts the result on the step's manager.
     */
    private static NDArray indices(NDArray codes, NDManager m) {
        try (NDArray zero = m.zeros(new Shape(1), DataType.INT32)) {
            return zero.add(codes);
        }
    }

    @Override
    public NDArray dequantize(NDManager m) {
        try (NDManager tmp = m.newSubManager()) {
            NDArray idx = indices(packed, tmp);
            NDArray scales = absmax != null ? absmax : blockScales(tmp);
            NDArray w = Embedding.embedding(idx, pairTable, SparseFormat.DENSE).singletonOrThrow() // (blocks·32, 2)
                    .reshape(blocks, BLOCK).mul(scales).reshape(-1);
            if (w.getShape().get(0) != numel) {
                w = w.get(new NDIndex(":{}", numel));
            }
            w = w.reshape(shape);
            w = QuantizedWeight.cast(w, dtype);
            w.attach(m);
            return w;
        }
    }

    /** The packed codes, UINT8 (blocks · 32). */
    public NDArray packed() {
        return packed;
    }

    public boolean doubleQuantized() {
        return absmax == null;
    }

    public int blocks() {
        return blocks;
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
        return "nf4";
    }

    @Override
    public long storageBytes() {
        long codes = packed.getShape().size();
        if (absmax != null) {
            return codes + 4L * blocks;
        }
        return codes + absmaxCodes.getShape().size() + 4L * absmax2.getShape().size() + 4; // + the FP32 mean
    }

    @Override
    public void close() {
        packed.close();
        pairTable.close();
        if (absmax != null) {
            absmax.close();
        } else {
            absmaxCodes.close();
            absmax2.close();
            dynamicTable.close();
        }
    }
}
