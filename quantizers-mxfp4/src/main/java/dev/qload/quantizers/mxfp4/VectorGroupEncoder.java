package dev.qload.quantizers.mxfp4;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * {@link Mxfp4Format#quantizeGroup} on the Vector API, the same bits: amax as an exact lane
 * maximum, the same scale arithmetic, and each element's magnitude code as the count of the seven
 * E2M1 midpoints it is past ({@code >} where the code below is even, {@code >=} where it is odd:
 * round to nearest even, as {@link Mxfp4Format#encodeE2m1ByThresholds}), 16 lanes at a time.
 * Only the final nibble packing is scalar. Issue 10: scalar encoding was most of an MXFP4
 * quantize-on-load.
 */
final class VectorGroupEncoder {
    private static final VectorSpecies<Float> F = FloatVector.SPECIES_PREFERRED;
    private static final VectorSpecies<Integer> I = IntVector.SPECIES_PREFERRED;
    /** The midpoints between neighbouring E2M1 magnitudes, and whether reaching one exactly counts (odd code below). */
    private static final float[] MIDPOINTS = {0.25f, 0.75f, 1.25f, 1.75f, 2.5f, 3.5f, 5f};
    private static final boolean[] INCLUSIVE = {false, true, false, true, false, true, false};

    private VectorGroupEncoder() {}

    /** Whether this machine's vectors split a group of 32 evenly (and int and float lanes match). */
    static boolean available() {
        return F.length() == I.length() && Mxfp4Format.GROUP % F.length() == 0 && !"false".equals(System.getProperty("qload.simd"));
    }

    /** As {@link Mxfp4Format#quantizeGroup}: codes into {@code out} (16 bytes), returns the E8M0 scale or SCALE_NAN for Inf/NaN input. */
    static int quantizeGroup(float[] x, int xOff, byte[] out, int outOff, int[] codes) {
        int lanes = F.length();
        FloatVector amaxV = FloatVector.zero(F);
        boolean finite = true;
        for (int i = 0; i < Mxfp4Format.GROUP; i += lanes) {
            FloatVector a = FloatVector.fromArray(F, x, xOff + i).abs();
            finite &= a.test(VectorOperators.IS_FINITE).allTrue();
            amaxV = amaxV.max(a);
        }
        if (!finite) return Mxfp4Format.SCALE_NAN;
        float amax = amaxV.reduceLanes(VectorOperators.MAX); // max is exact in any order
        int rounded = (Float.floatToRawIntBits(amax / Mxfp4Format.E2M1_MAX) + 0x7FFFFF) & 0x7F800000;
        float quantScale = rounded == 0 ? 0f : 1.0f / Float.intBitsToFloat(rounded);
        IntVector one = IntVector.broadcast(I, 1);
        for (int i = 0; i < Mxfp4Format.GROUP; i += lanes) {
            FloatVector q = FloatVector.fromArray(F, x, xOff + i).mul(quantScale);
            FloatVector a = q.abs();
            IntVector magnitude = IntVector.zero(I);
            for (int m = 0; m < MIDPOINTS.length; m++) {
                VectorMask<Float> past = a.compare(INCLUSIVE[m] ? VectorOperators.GE : VectorOperators.GT, MIDPOINTS[m]);
                magnitude = magnitude.add(one, past.cast(I));
            }
            IntVector sign = q.reinterpretAsInts().lanewise(VectorOperators.LSHR, 31).lanewise(VectorOperators.LSHL, 3);
            sign.or(magnitude).intoArray(codes, i);
        }
        for (int i = 0; i < Mxfp4Format.GROUP; i += 2) out[outOff + i / 2] = (byte) (codes[i] | codes[i + 1] << 4);
        return rounded >>> 23;
    }
}
