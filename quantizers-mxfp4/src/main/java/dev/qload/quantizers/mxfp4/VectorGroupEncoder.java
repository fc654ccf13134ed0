package dev.qload.quantizers.mxfp4;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * {@link Mxfp4Format#quantizeGroup} on the Vector API, giving the same bytes and scale: amax as an
 * exact lane maximum (NaN and ∞ propagate, then refuse the group), the same scale arithmetic, and
 * each magnitude code as the count of E2M1 midpoints the element is past, {@code >} where the code
 * below is even and {@code >=} where it is odd (round to nearest even, as
 * {@link Mxfp4Format#encodeE2m1ByThresholds}). Each comparison is the sign bit of a difference
 * (every lane is finite once Inf/NaN groups are refused), so no masks are involved: variants with
 * mask casts or masked adds fell back to allocating Java code inside the loader and ran 10–100×
 * slower there. Only the nibble packing is scalar (issue 10).
 */
final class VectorGroupEncoder {
    private static final VectorSpecies<Float> F = FloatVector.SPECIES_PREFERRED;

    private VectorGroupEncoder() {}

    /** Whether this machine's vectors split a group of 32 evenly with int lanes of the same count, and SIMD is on. */
    static boolean available() {
        return IntVector.SPECIES_PREFERRED.length() == F.length() && Mxfp4Format.GROUP % F.length() == 0
                && !"false".equals(System.getProperty("qload.simd"));
    }

    /** As {@link Mxfp4Format#quantizeGroup}; {@code codes} is scratch for 32 ints. */
    static int quantizeGroup(float[] x, int xOff, byte[] out, int outOff, int[] codes) {
        int lanes = F.length();
        FloatVector amaxV = FloatVector.fromArray(F, x, xOff).abs();
        for (int i = lanes; i < Mxfp4Format.GROUP; i += lanes) amaxV = amaxV.max(FloatVector.fromArray(F, x, xOff + i).abs());
        float amax = amaxV.reduceLanes(VectorOperators.MAX); // exact in any order
        if (!(amax <= Float.MAX_VALUE)) return Mxfp4Format.SCALE_NAN; // Inf or NaN in the group
        int rounded = (Float.floatToRawIntBits(amax / Mxfp4Format.E2M1_MAX) + 0x7FFFFF) & 0x7F800000;
        float quantScale = rounded == 0 ? 0f : 1.0f / Float.intBitsToFloat(rounded);
        for (int i = 0; i < Mxfp4Format.GROUP; i += lanes) {
            FloatVector q = FloatVector.fromArray(F, x, xOff + i).mul(quantScale);
            FloatVector a = q.abs();
            IntVector m = above(0.25f, a).add(atLeast(0.75f, a)).add(above(1.25f, a)).add(atLeast(1.75f, a))
                    .add(above(2.5f, a)).add(atLeast(3.5f, a)).add(above(5f, a));
            IntVector sign = q.reinterpretAsInts().lanewise(VectorOperators.LSHR, 31).lanewise(VectorOperators.LSHL, 3);
            sign.or(m).intoArray(codes, i);
        }
        for (int i = 0; i < Mxfp4Format.GROUP; i += 2) out[outOff + i / 2] = (byte) (codes[i] | codes[i + 1] << 4);
        return rounded >>> 23;
    }

    /** 1 where a > threshold: the sign bit of threshold − a (a finite: equal gives +0, not counted). */
    private static IntVector above(float threshold, FloatVector a) {
        return FloatVector.broadcast(F, threshold).sub(a).reinterpretAsInts().lanewise(VectorOperators.LSHR, 31);
    }

    /** 1 where a ≥ threshold: one minus the sign bit of a − threshold (equal gives +0, counted). */
    private static IntVector atLeast(float threshold, FloatVector a) {
        return a.sub(threshold).reinterpretAsInts().lanewise(VectorOperators.LSHR, 31).lanewise(VectorOperators.XOR, 1);
    }
}
