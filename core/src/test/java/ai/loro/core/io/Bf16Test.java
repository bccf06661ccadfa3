package ai.loro.core.io;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Arrays;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * Checks the 16-bit conversions against an independent oracle: every finite value of the format is
 * decoded with Math.pow from its fields, and rounding picks the nearest one (ties to the even pattern),
 * with values at or past max + half an ulp going to infinity.
 */
class Bf16Test {

    /** Oracle for one 16-bit format with {@code mbits} mantissa bits and exponent bias {@code bias}. */
    static final class Oracle {
        final int mbits;
        final int ebits;
        final double[] values; // non-negative finite values, ascending, index = bit pattern
        final double max;
        final double overflow; // max + half ulp

        Oracle(int ebits, int mbits) {
            this.ebits = ebits;
            this.mbits = mbits;
            int bias = (1 << (ebits - 1)) - 1;
            int count = ((1 << ebits) - 1) << mbits; // patterns below the all-ones exponent
            values = new double[count];
            for (int p = 0; p < count; p++) {
                int e = p >>> mbits;
                int m = p & ((1 << mbits) - 1);
                values[p] = e == 0 ? m * Math.pow(2, 1 - bias - mbits)
                        : (1 + m / Math.pow(2, mbits)) * Math.pow(2, e - bias);
            }
            max = values[count - 1];
            overflow = max + (max - values[count - 2]) / 2;
        }

        int infBits() {
            return ((1 << ebits) - 1) << mbits;
        }

        short round(float f) {
            int sign = Float.floatToRawIntBits(f) < 0 ? 1 << (ebits + mbits) : 0;
            double x = Math.abs((double) f);
            if (x >= overflow) {
                return (short) (sign | infBits());
            }
            if (x > max) {
                return (short) (sign | (values.length - 1));
            }
            int i = Arrays.binarySearch(values, x);
            if (i >= 0) {
                return (short) (sign | i);
            }
            int hi = -i - 1; // values[hi-1] < x < values[hi]
            int lo = hi - 1;
            double dl = x - values[lo];
            double dh = values[hi] - x;
            int pick = dl < dh ? lo : dh < dl ? hi : ((lo & 1) == 0 ? lo : hi);
            return (short) (sign | pick);
        }

        double decode(short bits) {
            int p = bits & 0xFFFF;
            double s = (p >>> (ebits + mbits)) != 0 ? -1 : 1;
            if ((p & 0x7FFF) == infBits()) {
                return s * Double.POSITIVE_INFINITY;
            }
            return s * values[p & ((1 << (ebits + mbits)) - 1)];
        }
    }

    static final Oracle BF16 = new Oracle(8, 7);
    static final Oracle FP16 = new Oracle(5, 10);

    private static boolean isNan16(short h, int ebits, int mbits) {
        int p = h & 0x7FFF;
        return (p >>> mbits) == (1 << ebits) - 1 && (p & ((1 << mbits) - 1)) != 0;
    }

    @Test
    void bf16AllPatternsRoundTrip() {
        for (int p = 0; p < 65536; p++) {
            short b = (short) p;
            float f = Bf16.toFloat(b);
            short back = Bf16.fromFloat(f);
            if (isNan16(b, 8, 7)) {
                assertTrue(Float.isNaN(f), "pattern " + p);
                assertTrue(isNan16(back, 8, 7), "NaN stays NaN " + p);
                assertEquals(b & 0x8000, back & 0x8000, "NaN sign kept " + p);
                assertEquals(0x0040, back & 0x0040, "quiet " + p);
                if ((p & 0x40) != 0) {
                    assertEquals(b, back, "quiet NaN unchanged " + p);
                }
            } else {
                assertEquals(b, back, "identity " + Integer.toHexString(p));
                if ((p & 0x7F80) != 0x7F80) {
                    assertEquals(BF16.decode(b), f, 0.0, "value " + Integer.toHexString(p));
                }
            }
        }
    }

    @Test
    void fp16AllPatternsRoundTrip() {
        for (int p = 0; p < 65536; p++) {
            short h = (short) p;
            float f = Bf16.fp16ToFloat(h);
            short back = Bf16.floatToFp16(f);
            if (isNan16(h, 5, 10)) {
                assertTrue(Float.isNaN(f), "pattern " + p);
                assertTrue(isNan16(back, 5, 10), "NaN stays NaN " + p);
                assertEquals(h & 0x8000, back & 0x8000, "NaN sign kept " + p);
                if ((p & 0x200) != 0) {
                    assertEquals(h, back, "quiet NaN unchanged " + p);
                }
            } else if ((p & 0x7C00) == 0x7C00) {
                assertEquals((p & 0x8000) != 0 ? Float.NEGATIVE_INFINITY : Float.POSITIVE_INFINITY, f);
                assertEquals(h, back);
            } else {
                assertEquals(h, back, "identity " + Integer.toHexString(p));
                assertEquals(FP16.decode(h), f, 0.0, "value " + Integer.toHexString(p));
                // the sign of zero survives
                assertEquals(p >>> 15, Float.floatToRawIntBits(f) >>> 31);
            }
        }
    }

    /** Every midpoint between neighbours (a tie), and the floats just either side of it. */
    private static void checkAllTies(Oracle o, java.util.function.IntUnaryOperator impl) {
        for (int p = 0; p + 1 < o.values.length; p++) {
            double mid = (o.values[p] + o.values[p + 1]) / 2;
            float m = (float) mid;
            if (m != mid) {
                continue; // fp16 midpoints are all floats; bf16 ones too
            }
            for (float x : new float[] {m, Math.nextDown(m), Math.nextUp(m)}) {
                for (float s : new float[] {x, -x}) {
                    assertEquals(o.round(s), (short) impl.applyAsInt(Float.floatToRawIntBits(s)),
                            "x=" + s + " bits=" + Integer.toHexString(Float.floatToRawIntBits(s)));
                }
            }
        }
        // the tie above max goes to inf, just below stays max
        float over = (float) o.overflow;
        assertEquals(o.infBits(), impl.applyAsInt(Float.floatToRawIntBits(over)) & 0xFFFF);
        assertEquals(o.infBits() - 1, impl.applyAsInt(Float.floatToRawIntBits(Math.nextDown(over))) & 0xFFFF);
    }

    @Test
    void bf16EveryTieAndNeighbours() {
        checkAllTies(BF16, b -> Bf16.fromFloat(Float.intBitsToFloat(b)));
    }

    @Test
    void fp16EveryTieAndNeighbours() {
        checkAllTies(FP16, b -> Bf16.floatToFp16(Float.intBitsToFloat(b)));
    }

    @Test
    void randomFloatsMatchOracle() {
        SplittableRandom r = new SplittableRandom(42);
        for (int i = 0; i < 400_000; i++) {
            float f = Float.intBitsToFloat(r.nextInt());
            if (Float.isNaN(f)) {
                continue;
            }
            assertEquals(BF16.round(f), Bf16.fromFloat(f), "bf16 " + f);
            assertEquals(FP16.round(f), Bf16.floatToFp16(f), "fp16 " + f);
            // values in the fp16 range, where the interesting rounding happens
            float g = (float) ((r.nextDouble() * 2 - 1) * Math.pow(2, r.nextInt(-27, 17)));
            assertEquals(FP16.round(g), Bf16.floatToFp16(g), "fp16 " + g);
            assertEquals(BF16.round(g), Bf16.fromFloat(g), "bf16 " + g);
        }
    }

    @Test
    void bf16SpecialCases() {
        assertEquals((short) 0x0000, Bf16.fromFloat(0f));
        assertEquals((short) 0x8000, Bf16.fromFloat(-0f));
        assertEquals((short) 0x7F80, Bf16.fromFloat(Float.POSITIVE_INFINITY));
        assertEquals((short) 0xFF80, Bf16.fromFloat(Float.NEGATIVE_INFINITY));
        assertEquals((short) 0x7FC0, Bf16.fromFloat(Float.NaN));
        assertEquals((short) 0xFFC0, Bf16.fromFloat(Float.intBitsToFloat(0xFFC00000)));
        // signalling NaN whose payload lives only in the low bits must not become inf
        short s = Bf16.fromFloat(Float.intBitsToFloat(0x7F800001));
        assertEquals((short) 0x7FC0, s);
        assertEquals((short) 0x3F80, Bf16.fromFloat(1f));
        // ties: 1 + 2^-8 is halfway between 1 (even) and 1+2^-7 (odd) -> 1
        assertEquals((short) 0x3F80, Bf16.fromFloat(Float.intBitsToFloat(0x3F808000)));
        // 1+2^-7 + 2^-8: halfway between odd 0x3F81 and even 0x3F82 -> up
        assertEquals((short) 0x3F82, Bf16.fromFloat(Float.intBitsToFloat(0x3F818000)));
        assertEquals((short) 0xBF82, Bf16.fromFloat(Float.intBitsToFloat(0xBF818000)));
        assertEquals((short) 0x3F81, Bf16.fromFloat(Float.intBitsToFloat(0x3F808001)));
        // rounds up into the next exponent: just below 2 -> 2
        assertEquals((short) 0x4000, Bf16.fromFloat(Math.nextDown(2f)));
        // overflow: max float -> inf
        assertEquals((short) 0x7F80, Bf16.fromFloat(Float.MAX_VALUE));
        assertEquals((short) 0xFF80, Bf16.fromFloat(-Float.MAX_VALUE));
        assertEquals((short) 0x7F7F, Bf16.fromFloat(Float.intBitsToFloat(0x7F7F7FFF)));
        // subnormals
        assertEquals((short) 0x0001, Bf16.fromFloat(Float.intBitsToFloat(0x00010000)));
        assertEquals((short) 0x0000, Bf16.fromFloat(Float.intBitsToFloat(0x00008000))); // tie to even 0
        assertEquals((short) 0x0002, Bf16.fromFloat(Float.intBitsToFloat(0x00018000))); // tie to even 2
        assertEquals((short) 0x0001, Bf16.fromFloat(Float.MIN_VALUE * 40000)); // rounds up from below
        assertEquals((short) 0x0080, Bf16.fromFloat(Float.intBitsToFloat(0x007FFFFF))); // to min normal
    }

    @Test
    void fp16SpecialCases() {
        assertEquals((short) 0x0000, Bf16.floatToFp16(0f));
        assertEquals((short) 0x8000, Bf16.floatToFp16(-0f));
        assertEquals((short) 0x7C00, Bf16.floatToFp16(Float.POSITIVE_INFINITY));
        assertEquals((short) 0xFC00, Bf16.floatToFp16(Float.NEGATIVE_INFINITY));
        assertEquals((short) 0x7E00, Bf16.floatToFp16(Float.NaN));
        assertTrue(isNan16(Bf16.floatToFp16(Float.intBitsToFloat(0x7F800001)), 5, 10));
        assertEquals((short) 0x3C00, Bf16.floatToFp16(1f));
        assertEquals((short) 0x7BFF, Bf16.floatToFp16(65504f));
        assertEquals((short) 0x7BFF, Bf16.floatToFp16(65519.996f));
        assertEquals((short) 0x7C00, Bf16.floatToFp16(65520f)); // tie above max -> inf
        assertEquals((short) 0xFC00, Bf16.floatToFp16(-1e6f));
        // ties at 1: 1 + 2^-11 -> 1 (even); 1 + 3*2^-11 -> 1 + 2^-9 (0x3C02)
        assertEquals((short) 0x3C00, Bf16.floatToFp16(1f + 0x1p-11f));
        assertEquals((short) 0x3C02, Bf16.floatToFp16(1f + 3 * 0x1p-11f));
        assertEquals((short) 0x3C01, Bf16.floatToFp16(Math.nextUp(1f + 0x1p-11f)));
        // into the next exponent
        assertEquals((short) 0x4000, Bf16.floatToFp16(Math.nextDown(2f)));
        // subnormals: min 2^-24, ties to even
        assertEquals((short) 0x0001, Bf16.floatToFp16(0x1p-24f));
        assertEquals((short) 0x0000, Bf16.floatToFp16(0x1p-25f));            // tie -> 0
        assertEquals((short) 0x0001, Bf16.floatToFp16(Math.nextUp(0x1p-25f)));
        assertEquals((short) 0x8000, Bf16.floatToFp16(-0x1p-26f));
        assertEquals((short) 0x0002, Bf16.floatToFp16(3 * 0x1p-25f));        // 1.5 ulp tie -> 2
        assertEquals((short) 0x0002, Bf16.floatToFp16(5 * 0x1p-25f));        // 2.5 ulp tie -> 2
        assertEquals((short) 0x03FF, Bf16.floatToFp16(1023 * 0x1p-24f));
        assertEquals((short) 0x0400, Bf16.floatToFp16(1023.5f * 0x1p-24f));  // tie -> min normal (even)
        assertEquals((short) 0x0400, Bf16.floatToFp16(0x1p-14f));
        assertEquals(0x1p-24f, Bf16.fp16ToFloat((short) 0x0001));
        assertEquals(-0x1p-14f, Bf16.fp16ToFloat((short) 0x8400));
        assertEquals(65504f, Bf16.fp16ToFloat((short) 0x7BFF));
    }

    /** libtorch's own fp16 conversions agree with ours on every pattern and on random floats. */
    @Test
    void fp16AgreesWithTorch() {
        try (NDManager m = NDManager.newBaseManager()) {
            ByteBuffer all = ByteBuffer.allocateDirect(65536 * 2).order(ByteOrder.nativeOrder());
            for (int p = 0; p < 65536; p++) {
                all.putShort((short) p);
            }
            all.rewind();
            NDArray h = m.create(all, new Shape(65536), DataType.FLOAT16);
            float[] widened = h.toType(DataType.FLOAT32, false).toFloatArray();
            for (int p = 0; p < 65536; p++) {
                float mine = Bf16.fp16ToFloat((short) p);
                if (Float.isNaN(mine)) {
                    assertTrue(Float.isNaN(widened[p]));
                } else {
                    assertEquals(Float.floatToRawIntBits(mine), Float.floatToRawIntBits(widened[p]), "p=" + p);
                }
            }
            SplittableRandom r = new SplittableRandom(7);
            float[] xs = new float[100_000];
            for (int i = 0; i < xs.length; i++) {
                xs[i] = (float) ((r.nextDouble() * 2 - 1) * Math.pow(2, r.nextInt(-27, 17)));
            }
            ByteBuffer narrowed = m.create(xs).toType(DataType.FLOAT16, false).toByteBuffer()
                    .order(ByteOrder.nativeOrder());
            for (int i = 0; i < xs.length; i++) {
                assertEquals(narrowed.getShort(i * 2), Bf16.floatToFp16(xs[i]), "x=" + xs[i]);
            }
        }
    }
}
