package ai.loro.core.io;

/**
 * Bit-exact conversions between {@code float} and the two 16-bit float formats found in
 * checkpoints: bfloat16 (the upper half of an IEEE binary32) and IEEE binary16 ("fp16"). Java 17
 * has no {@code Float.float16ToFloat}, and DJL's PyTorch engine has no bfloat16 at all, so every
 * BF16 tensor is widened and narrowed here.
 *
 * <p>Narrowing rounds to nearest, ties to even, as IEEE 754 and PyTorch do. NaN stays NaN (made
 * quiet, sign and upper payload kept), infinities stay infinite, finite values that round past the
 * largest finite value become infinite.
 */
public final class Bf16 {
    private Bf16() {}

    /** bfloat16 bits to float: exact (every bf16 value is a float). */
    public static float toFloat(short bf16Bits) {
        return Float.intBitsToFloat((bf16Bits & 0xFFFF) << 16);
    }

    /** float to bfloat16 bits, round to nearest even. */
    public static short fromFloat(float f) {
        int bits = Float.floatToRawIntBits(f);
        if ((bits & 0x7FFFFFFF) > 0x7F800000) {
            // NaN: keep sign and the upper payload bits, force the quiet bit so it cannot become inf.
            return (short) ((bits >>> 16) | 0x0040);
        }
        int lsb = (bits >>> 16) & 1;
        bits += 0x7FFF + lsb;
        return (short) (bits >>> 16);
    }

    /** IEEE binary16 bits to float: exact, including subnormals, infinities and NaN payloads. */
    public static float fp16ToFloat(short bits) {
        int h = bits & 0xFFFF;
        int sign = (h & 0x8000) << 16;
        int exp = (h >>> 10) & 0x1F;
        int mant = h & 0x3FF;
        if (exp == 0) {
            if (mant == 0) {
                return Float.intBitsToFloat(sign);
            }
            // subnormal: mant * 2^-24, exact in float
            float v = Math.scalb((float) mant, -24);
            return sign != 0 ? -v : v;
        }
        if (exp == 0x1F) {
            return Float.intBitsToFloat(sign | 0x7F800000 | (mant << 13));
        }
        return Float.intBitsToFloat(sign | ((exp - 15 + 127) << 23) | (mant << 13));
    }

    /** float to IEEE binary16 bits, round to nearest even (also into subnormals); overflow gives inf. */
    public static short floatToFp16(float f) {
        int bits = Float.floatToRawIntBits(f);
        int sign = (bits >>> 16) & 0x8000;
        int abs = bits & 0x7FFFFFFF;
        if (abs >= 0x7F800000) {
            if (abs == 0x7F800000) {
                return (short) (sign | 0x7C00);
            }
            return (short) (sign | 0x7E00 | ((abs >>> 13) & 0x3FF));
        }
        if (abs >= 0x477FF000) { // >= 65520: halfway past 65504 (odd) or more -> inf
            return (short) (sign | 0x7C00);
        }
        if (abs >= 0x38800000) { // >= 2^-14: normal result
            int e = (abs >>> 23) - 127 + 15;
            int m = abs & 0x7FFFFF;
            int h = (e << 10) | (m >>> 13);
            int rem = m & 0x1FFF;
            if (rem > 0x1000 || (rem == 0x1000 && (h & 1) != 0)) {
                h++; // a carry into the exponent is the correct next value
            }
            return (short) (sign | h);
        }
        if (abs <= 0x33000000) { // <= 2^-25: rounds to zero (2^-25 is a tie, zero is even)
            return (short) sign;
        }
        int e = abs >>> 23;               // 102..112
        int m = (abs & 0x7FFFFF) | 0x800000;
        int shift = 126 - e;              // 14..24
        int k = m >>> shift;
        int rem = m & ((1 << shift) - 1);
        int half = 1 << (shift - 1);
        if (rem > half || (rem == half && (k & 1) != 0)) {
            k++; // 1024 is the smallest normal, which is the right pattern
        }
        return (short) (sign | k);
    }
}
