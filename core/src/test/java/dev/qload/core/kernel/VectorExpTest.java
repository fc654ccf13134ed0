package dev.qload.core.kernel;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.SplittableRandom;
import jdk.incubator.vector.FloatVector;
import org.junit.jupiter.api.Test;

/**
 * The Vector API exp that SiLU, tanh-GELU and softmax use: accurate against the double-precision
 * {@link StrictMath#exp} rounded to F32, right at the edges (0, ∞, NaN, subnormal results), and
 * the same bits before and after the JIT compiles it.
 */
class VectorExpTest {
    private static final int L = FloatVector.SPECIES_PREFERRED.length();

    static float[] exp(float[] x) {
        float[] out = new float[x.length];
        for (int i = 0; i + L <= x.length; i += L) VectorKernels.exp(FloatVector.fromArray(FloatVector.SPECIES_PREFERRED, x, i)).intoArray(out, i);
        return out;
    }

    @Test
    void withinTwoUlpsOfTheCorrectlyRoundedValueOverTheWholeNormalRange() {
        SplittableRandom r = new SplittableRandom(3);
        float[] x = new float[L * 20000];
        for (int i = 0; i < x.length; i++) x[i] = (float) (r.nextDouble() * 175 - 87); // e^x normal in F32
        float[] y = exp(x);
        int worst = 0;
        for (int i = 0; i < x.length; i++) {
            float expected = (float) StrictMath.exp(x[i]);
            int ulps = Math.abs(Float.floatToIntBits(expected) - Float.floatToIntBits(y[i]));
            worst = Math.max(worst, ulps);
        }
        assertTrue(worst <= 2, "worst error " + worst + " ulps");
    }

    @Test
    void edgesAreZeroInfinityNaNAndOne() {
        float[] x = new float[L];
        float[] in = {0f, -0f, Float.NEGATIVE_INFINITY, Float.POSITIVE_INFINITY, Float.NaN, -200f, 200f, 88.7f, -90f, 1f};
        System.arraycopy(in, 0, x, 0, Math.min(in.length, L));
        float[] y = exp(x);
        assertEquals(1f, y[0]);
        assertEquals(1f, y[1]);
        assertEquals(0f, y[2]);
        assertEquals(Float.POSITIVE_INFINITY, y[3]);
        assertTrue(Float.isNaN(y[4]));
        if (L > 8) {
            assertEquals(0f, y[5]);
            assertEquals(Float.POSITIVE_INFINITY, y[6]);
            assertEquals((float) StrictMath.exp(88.7f), y[7], Math.ulp((float) StrictMath.exp(88.7f)) * 2);
            assertEquals((float) StrictMath.exp(-90f), y[8], Math.ulp((float) StrictMath.exp(-90f)) * 2); // subnormal result
            assertEquals((float) Math.E, y[9], Math.ulp((float) Math.E) * 2);
        }
    }

    @Test
    void sameBitsColdAndWarm() {
        SplittableRandom r = new SplittableRandom(5);
        float[] x = new float[L * 64];
        for (int i = 0; i < x.length; i++) x[i] = (float) (r.nextGaussian() * 20);
        float[] cold = exp(x);
        for (int rep = 0; rep < 20000; rep++) exp(x); // long enough for C2 to compile exp
        float[] warm = exp(x);
        for (int i = 0; i < x.length; i++) assertEquals(Float.floatToIntBits(cold[i]), Float.floatToIntBits(warm[i]), "x = " + x[i]);
    }
}
