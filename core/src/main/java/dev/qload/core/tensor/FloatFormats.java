package dev.qload.core.tensor;

/**
 * Bit-level conversions between F32 and the 16-bit float formats.
 *
 * <p>BF16 is the upper half of an IEEE binary32; rounding F32 to BF16 is round-to-nearest-even on
 * the dropped 16 bits, with NaN kept quiet ({@code 0x7FC0}), as {@code c10::BFloat16} does
 * ({@code c10/util/BFloat16.h :: round_to_nearest_even}). F16 uses the JDK's IEEE binary16
 * conversions ({@link Float#floatToFloat16}, {@link Float#float16ToFloat}), which round to nearest
 * even as well.
 */
public final class FloatFormats {
    private FloatFormats() {}

    public static float bf16ToFloat(short bits) {
        return Float.intBitsToFloat((bits & 0xFFFF) << 16);
    }

    public static short floatToBf16(float value) {
        int bits = Float.floatToRawIntBits(value);
        if (Float.isNaN(value)) return (short) 0x7FC0;
        int roundingBias = 0x7FFF + ((bits >>> 16) & 1);
        return (short) ((bits + roundingBias) >>> 16);
    }

    public static float f16ToFloat(short bits) {
        return Float.float16ToFloat(bits);
    }

    public static short floatToF16(float value) {
        return Float.floatToFloat16(value);
    }
}
