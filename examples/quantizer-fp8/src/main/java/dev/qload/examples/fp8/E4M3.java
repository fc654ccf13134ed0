package dev.qload.examples.fp8;

/**
 * The FP8 E4M3 element ({@code float8_e4m3fn}, safetensors {@code F8_E4M3}) of the OCP 8-bit
 * floating point specification (OFP8 v1.0):
 *
 * <pre>
 * bit   7   6 5 4 3   2 1 0
 *       S   E E E E   M M M        exponent bias 7
 * E = 0        value = (−1)^S · M/8 · 2^−6             subnormals, ±0 (0x00 / 0x80)
 * E = 1..15    value = (−1)^S · (1 + M/8) · 2^(E−7)    largest finite 0x7E = 448
 * S.1111.111   NaN (0x7F / 0xFF)                       no infinities
 * </pre>
 *
 * <p>{@link #encode} is the saturating conversion from F32: round to nearest, ties to even;
 * |x| ≥ 448 and ±∞ give ±448; NaN gives the NaN code with the input's sign; −0 and negative
 * values that round to zero give 0x80. That is exactly what transformers' quantizer computes,
 * {@code torch.clamp(x, -448, 448).to(torch.float8_e4m3fn)} (torch's own cast is not saturating,
 * c10's {@code fp8e4m3fn_from_fp32_value}; the clamp before it makes the two agree).
 */
final class E4M3 {
    /** The largest finite value, {@code torch.finfo(torch.float8_e4m3fn).max}. */
    static final float MAX = 448f;
    static final int BIAS = 7;
    static final byte MAX_CODE = 0x7E;
    static final byte NAN_CODE = 0x7F;

    /** The value of every code, indexed by the unsigned byte. */
    private static final float[] DECODE = new float[256];

    static {
        for (int c = 0; c < 256; c++) DECODE[c] = decodeSlow(c);
    }

    private E4M3() {}

    /** The value of {@code code} (its low 8 bits); NaN codes give a quiet NaN with the code's sign. */
    static float decode(int code) {
        return DECODE[code & 0xFF];
    }

    private static float decodeSlow(int code) {
        int sign = code & 0x80, e = (code >>> 3) & 0xF, m = code & 0x7;
        if (e == 0xF && m == 0x7) return Float.intBitsToFloat(sign << 24 | 0x7FC00000);
        float magnitude = e == 0 ? Math.scalb((float) m, 1 - BIAS - 3) : Math.scalb(1f + m / 8f, e - BIAS);
        return sign != 0 ? -magnitude : magnitude;
    }

    /**
     * The saturating, round-to-nearest-even code of {@code x}. A port of c10's bit arithmetic
     * (which needs {@code |x| < 480} — guaranteed here by saturating first): below 2^−6 the value
     * is added to 2^14 so the FPU rounds it onto the 2^−9 subnormal grid; above, the 20 dropped
     * mantissa bits are rounded half-to-even by adding 0x7FFFF plus the lowest kept bit.
     */
    static byte encode(float x) {
        int bits = Float.floatToRawIntBits(x);
        int sign = (bits >>> 24) & 0x80;
        int abs = bits & 0x7FFFFFFF;
        if (abs > 0x7F800000) return (byte) (NAN_CODE | sign);
        if (abs >= 0x43E00000) return (byte) (MAX_CODE | sign); // 448.0f and above, +-inf included
        int result;
        if (abs < 121 << 23) { // below 2^-6, the smallest normal
            float shifted = Float.intBitsToFloat(abs) + Float.intBitsToFloat(141 << 23); // + 2^14
            result = Float.floatToRawIntBits(shifted) - (141 << 23);
        } else {
            int mantissaOdd = (abs >>> 20) & 1;
            result = (abs + ((BIAS - 127) << 23) + 0x7FFFF + mantissaOdd) >>> 20;
        }
        return (byte) (result | sign);
    }
}
