package dev.qload.core.kernel;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.SplittableRandom;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** bucketize: the vector kernel equals the scalar one, and the scalar one equals a search written from the definition. */
class BucketizeTest {
    /** Sorted midpoints with a duplicate, as FP4's two zeros produce. */
    static final float[] MIDPOINTS = {-0.8480964f, -0.3396794f, -0.0026f, 0f, 0f, 0.0026f, 0.2035213f, 0.8614784f};

    static int definition(float v) {
        int count = 0;
        for (float m : MIDPOINTS) if (v > m) count++;
        return count;
    }

    @ParameterizedTest
    @ValueSource(ints = {1, 7, 15, 16, 17, 31, 32, 33, 64, 255, 257, 4097})
    void vectorEqualsScalarEqualsDefinition(int n) {
        SplittableRandom r = new SplittableRandom(n);
        float[] x = new float[n + 3];
        for (int i = 0; i < x.length; i++) {
            x[i] = switch (i % 7) {
                case 0 -> MIDPOINTS[r.nextInt(MIDPOINTS.length)] * 2.5f; // lands on a midpoint exactly after the 0.4 scale
                case 1 -> Float.NaN;
                case 2 -> -0f;
                case 3 -> (float) r.nextDouble(-10, 10);
                default -> (float) r.nextGaussian();
            };
        }
        for (float divisor : new float[] {Float.NaN, 2.5f}) {
            byte[] scalar = new byte[n], vector = new byte[n];
            Kernels.scalar().bucketize(x, 3, n, 0.4f, divisor, MIDPOINTS, scalar, 0);
            KernelSelection.vector().bucketize(x, 3, n, 0.4f, divisor, MIDPOINTS, vector, 0);
            assertArrayEquals(scalar, vector, "n=" + n + " divisor=" + divisor);
            for (int i = 0; i < n; i++) {
                float v = Math.clamp(Float.isNaN(divisor) ? x[3 + i] * 0.4f : x[3 + i] / divisor, -1f, 1f);
                assertEquals(definition(v), scalar[i], "element " + i + " = " + x[3 + i]);
            }
        }
    }

    @ParameterizedTest
    @ValueSource(ints = {0, 1, 7, 15, 16, 17, 33, 255, 257, 4097})
    void absMaxVectorEqualsScalarEqualsDefinition(int n) {
        SplittableRandom r = new SplittableRandom(31L * n);
        float[] x = new float[n + 2];
        for (int i = 0; i < x.length; i++) x[i] = (float) (r.nextGaussian() * Math.pow(10, r.nextInt(-30, 30)));
        float expected = 0;
        for (int i = 2; i < n + 2; i++) expected = Math.max(expected, Math.abs(x[i]));
        assertEquals(expected, Kernels.scalar().absMax(x, 2, n), 0f);
        assertEquals(expected, KernelSelection.vector().absMax(x, 2, n), 0f);
        if (n > 0) {
            x[2 + n / 2] = Float.NaN;
            assertTrue(Float.isNaN(KernelSelection.vector().absMax(x, 2, n)), "NaN must propagate");
            assertTrue(Float.isNaN(Kernels.scalar().absMax(x, 2, n)), "NaN must propagate");
        }
    }
}
