package dev.qload.quantizers.mxfp4;

import dev.qload.core.tensor.FloatFormats;

/**
 * OCP Microscaling MXFP4 as gpt-oss ships it (spec/FORMATS.md §4): where its bytes become floats
 * and floats become bytes. A weight {@code W [rows, cols]} (nn.Linear orientation, {@code cols} a
 * multiple of 32) is cut into groups of 32 consecutive elements of a row:
 *
 * <pre>
 * *_blocks  U8 [..., rows, cols/32, 16]   two E2M1 codes per byte: element 2k in the LOW nibble,
 *                                          element 2k+1 in the high nibble (transformers
 *                                          convert_moe_packed_tensors: out[0::2] = LUT[b &amp; 0xF])
 * *_scales  U8 [..., rows, cols/32]       E8M0: value = code value · 2^(byte − 127); 0xFF is NaN
 *
 * E2M1 code: sign = bit 3, exponent = bits 2–1 (bias 1), mantissa = bit 0; no Inf or NaN
 *   0..7  =  0, 0.5, 1, 1.5, 2, 3, 4, 6        8..15 = the negatives (8 = −0)
 * </pre>
 *
 * Decoding is exact in F32 (and BF16): every code value times a power of two down to 2^-127 is
 * representable, and products past 2^128 are ±inf, as {@code torch.ldexp} gives them.
 *
 * <p>Encoding follows triton_kernels {@code numerics_details/mxfp.py :: downcast_to_mxfp_torch}
 * with {@code DequantScaleRoundingMode.ROUND_UP}, as transformers' {@code quantize_to_mxfp4} calls
 * it (input first rounded to BF16): the scale is {@code amax/6} rounded UP to a power of two
 * ({@code (bits + 0x7FFFFF) & 0x7F800000}), its byte that float's exponent field; elements are
 * {@code x · (1/scale)} rounded to nearest, ties to even (triton main's rounding), with a sticky bit
 * over the bits shifted out for E2M1 subnormals, saturating at ±6.
 */
final class Mxfp4Format {
    /** Elements per group sharing one scale (OCP MX k = 32). */
    static final int GROUP = 32;
    /** Bytes per group: 32 four-bit codes. */
    static final int GROUP_BYTES = GROUP / 2;
    /** E8M0 bias ({@code E8M0_EXPONENT_BIAS}) and its NaN encoding ({@code E8M0_EXPONENT_NAN_VAL}). */
    static final int SCALE_BIAS = 127;
    static final int SCALE_NAN = 0xFF;
    /** Largest E2M1 magnitude ({@code F4_E2M1_MAX}). */
    static final float E2M1_MAX = 6.0f;

    /** transformers' {@code FP4_VALUES}, indexed by code. */
    static final float[] E2M1 = {+0.0f, +0.5f, +1.0f, +1.5f, +2.0f, +3.0f, +4.0f, +6.0f,
            -0.0f, -0.5f, -1.0f, -1.5f, -2.0f, -3.0f, -4.0f, -6.0f};

    /** 2^(byte − 127) for bytes 0..254 (byte 0 is the subnormal 2^-127, not flushed); NaN for 255. */
    static final float[] SCALE = new float[256];
    /** Both elements of a packed byte, unscaled: [2b] = low nibble, [2b + 1] = high nibble. */
    static final float[] BYTE_PAIRS = new float[512];
    /** Every decoded value, [scale · 16 + code] (scale 255 rows are NaN, never used: such scales are refused). */
    static final float[] DECODED = new float[256 * 16];
    /** {@link #DECODED} as BF16 and F16 bit patterns: exact for BF16, rounded to nearest even for F16's narrower range. */
    static final short[] DECODED_BF16 = new short[256 * 16];
    static final short[] DECODED_F16 = new short[256 * 16];

    static {
        for (int s = 0; s < 255; s++) SCALE[s] = Math.scalb(1.0f, s - SCALE_BIAS);
        SCALE[SCALE_NAN] = Float.NaN;
        for (int b = 0; b < 256; b++) {
            BYTE_PAIRS[2 * b] = E2M1[b & 0x0F];
            BYTE_PAIRS[2 * b + 1] = E2M1[b >>> 4];
        }
        for (int i = 0; i < DECODED.length; i++) {
            DECODED[i] = E2M1[i % 16] * SCALE[i / 16];
            DECODED_BF16[i] = FloatFormats.floatToBf16(DECODED[i]);
            DECODED_F16[i] = FloatFormats.floatToF16(DECODED[i]);
        }
    }

    private Mxfp4Format() {}

    /**
     * Quantizes one group of 32 values (already rounded to BF16) into 16 packed bytes at
     * {@code out[outOff]}; returns the scale byte. A group holding Inf or NaN returns 255, which
     * callers reject: finite inputs never reach 254 (amax would have to exceed 3·2^127).
     */
    static int quantizeGroup(float[] x, int xOff, byte[] out, int outOff) {
        float amax = 0;
        for (int i = 0; i < GROUP; i++) {
            float a = Math.abs(x[xOff + i]);
            if (!(a <= Float.MAX_VALUE)) return SCALE_NAN; // Inf or NaN
            amax = Math.max(amax, a);
        }
        int rounded = (Float.floatToRawIntBits(amax / E2M1_MAX) + 0x7FFFFF) & 0x7F800000;
        float dequantScale = Float.intBitsToFloat(rounded);
        float quantScale = rounded == 0 ? 0f : 1.0f / dequantScale;
        for (int i = 0; i < GROUP; i += 2) {
            int lo = encodeE2m1ByQuarters(x[xOff + i] * quantScale), hi = encodeE2m1ByQuarters(x[xOff + i + 1] * quantScale);
            out[outOff + i / 2] = (byte) (lo | hi << 4);
        }
        return rounded >>> 23;
    }

    /**
     * {@link #encodeE2m1ByThresholds}'s code per quarter: every midpoint between E2M1 values is a
     * multiple of 0.25, so the code depends only on k = ⌊4·|q|⌋ (exact: 4 is a power of two) and on
     * whether 4·|q| is exactly k (a tie or an E2M1 value) or strictly inside (k, k + 1). The table
     * holds both, derived from the threshold encoder itself; k saturates at 24 (|q| = 6), NaN reads as
     * strictly inside (0, 1), as the thresholds give it. About half the operations of seven comparisons
     * (issue 10: the encoder was most of an MXFP4 quantize-on-load).
     */
    static int encodeE2m1ByQuarters(float q) {
        float t = Math.abs(q) * 4f;
        int k = Math.min((int) t, MAX_QUARTER);
        return (Float.floatToRawIntBits(q) >>> 31) << 3 | QUARTER_CODES[2 * k + (t == k ? 0 : 1)];
    }

    private static final int MAX_QUARTER = 24;
    /** [2k]: the magnitude code of |q| = k/4; [2k + 1]: of |q| in (k/4, (k+1)/4). */
    private static final byte[] QUARTER_CODES = new byte[2 * (MAX_QUARTER + 1)];

    static {
        for (int k = 0; k <= MAX_QUARTER; k++) {
            QUARTER_CODES[2 * k] = (byte) encodeE2m1ByThresholds(k / 4f);
            QUARTER_CODES[2 * k + 1] = (byte) encodeE2m1ByThresholds(k / 4f + 0.125f);
        }
    }

    /**
     * {@link #encodeE2m1}'s code without its branches, the one quantizing uses (issue 10: the bit
     * manipulation, with a data-dependent branch on |q| < 1, was most of an MXFP4 quantize-on-load).
     * The magnitude code is the number of midpoints between neighbouring E2M1 values that |q| is past:
     * 0.25, 0.75, 1.25, 1.75, 2.5, 3.5, 5. On a midpoint, round to nearest even picks the even code,
     * so the comparison is {@code >} where the code below is even (0, 2, 4, 6: midpoints 0.25, 1.25,
     * 2.5, 5) and {@code >=} where it is odd (1, 3, 5: 0.75, 1.75, 3.5). Above 6 it saturates at 7 as
     * {@link #encodeE2m1} does. Tested against it over a sweep of float bit patterns.
     */
    static int encodeE2m1ByThresholds(float q) {
        float a = Math.abs(q);
        int magnitude = (a > 0.25f ? 1 : 0) + (a >= 0.75f ? 1 : 0) + (a > 1.25f ? 1 : 0) + (a >= 1.75f ? 1 : 0)
                + (a > 2.5f ? 1 : 0) + (a >= 3.5f ? 1 : 0) + (a > 5f ? 1 : 0);
        return (Float.floatToRawIntBits(q) >>> 31) << 3 | magnitude;
    }

    /**
     * An F32 value already divided by its scale (|q| ≤ 6 by construction) to its E2M1 code, round to
     * nearest even: mxfp4_ref.encode_e2m1(rounding="rtne"), the bit manipulation of
     * downcast_to_mxfp_torch done on the F32 fields. The reference twin of {@link #encodeE2m1ByThresholds}.
     */
    static int encodeE2m1(float q) {
        int bits = Float.floatToRawIntBits(q);
        int sign = bits >>> 31;
        int exponent = (bits >>> 23) & 0xFF;
        int mantissa = bits & 0x7FFFFF;
        boolean subnormal = exponent < 127; // |q| < 1: E2M1's subnormal range (0 and 0.5)
        long shifted;
        boolean sticky;
        if (subnormal) {
            int shift = Math.min(127 - exponent - 1, 63);
            long pre = 0x400000L | (mantissa >>> 1);
            shifted = shift >= 63 ? 0 : pre >>> shift;
            long dropped = pre & ((1L << Math.min(shift, 31)) - 1);
            sticky = (mantissa & 1) != 0 || dropped != 0;
        } else {
            shifted = mantissa;
            sticky = false;
        }
        int exps = Math.max(exponent, 126) - 126;
        int m2 = (int) (shifted >>> 21) & 0x3;
        int lsb = (m2 >>> 1) & 1, guard = m2 & 1;
        sticky |= (shifted & ((1 << 21) - 1)) != 0;
        int increment = guard & ((sticky ? 1 : 0) | lsb);
        int magnitude = Math.min(((exps << 2 | m2) + increment) >>> 1, 0x7);
        return sign << 3 | magnitude;
    }
}
