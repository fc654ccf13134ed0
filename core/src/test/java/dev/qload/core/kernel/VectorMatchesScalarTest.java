package dev.qload.core.kernel;

import static dev.qload.core.kernel.KernelTestSupport.I16;
import static dev.qload.core.kernel.KernelTestSupport.I32;
import static dev.qload.core.kernel.KernelTestSupport.U;
import static dev.qload.core.kernel.KernelTestSupport.assertClose;
import static dev.qload.core.kernel.KernelTestSupport.assertSameFloat;
import static dev.qload.core.kernel.KernelTestSupport.assertUntouchedOutside;
import static dev.qload.core.kernel.KernelTestSupport.uniform;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.qload.core.tensor.DType;
import dev.qload.core.tensor.Tensor;
import java.util.Arrays;
import java.util.SplittableRandom;
import java.util.stream.IntStream;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The Vector API kernels against the scalar reference, method by method, on lengths around every
 * SIMD boundary (the species here has {@code L} lanes: 1..L−1 are tail only, L and 2L the body
 * only, L±1 and 2L±1 both) and at non-zero offsets, so a wrong index in the head, body or tail
 * shows up. Elements outside the written range must keep their bits.
 */
class VectorMatchesScalarTest {
    private static final long SEED = 0x5EED_0001_C0FFEEL;
    private static final Kernels SCALAR = Kernels.scalar();
    private static final Kernels VECTOR = KernelSelection.vector();
    static final int[] LENGTHS = {1, 2, 7, 15, 16, 17, 31, 32, 33, 63, 64, 65, 255, 256, 257, 1000, 4096, 4097};

    /** Offsets of the first operand, the second operand and the output; all different, none lane-aligned. */
    private static final int X_OFF = 3, B_OFF = 5, OUT_OFF = 7;
    /** An odd element offset into the weight segment, so 16-bit loads are not 4-byte aligned. */
    private static final long ELEMENT_OFFSET = 11;

    /*
     * Tolerances. Both kernels accumulate in F32, but in a different order (the vector one in L
     * lane-wise partial sums combined at the end, with fused multiply-adds), so a sum of n terms
     * may differ by the rounding of either. The worst-case bound is γ_n = n·U times Σ|terms|; the
     * rounding errors of random data add like a random walk, so the realistic bound is a small
     * multiple of √n·U·Σ|terms|. SUM_SLACK = 4 covers both kernels' errors (2 × 2σ) and still
     * fails by orders of magnitude if a term is dropped, doubled or read from the wrong index.
     */
    private static final double SUM_SLACK = 4;
    /**
     * silu/siluMul/geluTanh/softmax: the vector kernel evaluates exp/tanh in F32 with the Vector
     * API's EXP/TANH, which are within 1 ulp (the SVML/libm contract) rather than correctly rounded,
     * then 2–3 more F32 roundings; the scalar one evaluates in double and rounds once. A few ulp of
     * F32 is ≤ 5·2^−24 ≈ 3e−7, so 1e−6 relative leaves room without hiding a wrong formula.
     */
    private static final double TRANSCENDENTAL_REL = 1e-6;
    /**
     * F32 exp overflows for arguments above ln(Float.MAX_VALUE) ≈ 88.72, so the vector silu returns
     * −0 for x &lt; −88.72, where the true x·σ(x) is already below 2e−36 in magnitude (the scalar one,
     * in double, returns that tiny or subnormal value). Below this floor the values are zero for any
     * model.
     */
    private static final double SILU_ABS_FLOOR = 2e-36;
    /** The vector gelu uses Eigen's F32 rational erf (error ≈ 1e−7 of erf), times 0.5·|x| ≤ 5. */
    private static final double GELU_ABS = 2e-6;
    private static final double GELU_RANGE = 10;

    private static int lanes;

    @BeforeAll
    static void kernelsDiffer() {
        assertNotSame(SCALAR, VECTOR, "the comparison needs two implementations");
        lanes = Integer.parseInt(VECTOR.name().substring("vector-".length())) / 32;
        assertTrue(lanes >= 2, "unexpected species " + VECTOR.name());
    }

    static IntStream lengths() {
        return Arrays.stream(LENGTHS);
    }

    static Stream<Arguments> lengthsAndWeightTypes() {
        return Arrays.stream(LENGTHS).boxed()
                .flatMap(n -> Stream.of(DType.F32, DType.BF16, DType.F16).map(t -> Arguments.of(n, t)));
    }

    private static long seed(int n, int salt) {
        return SEED + 1_000_003L * n + salt;
    }

    private static String where(long seed, int n, int k) {
        return "seed=" + seed + " n=" + n + " k=" + k + " (" + VECTOR.name() + ")";
    }

    // ------------------------------------------------------------------ dot products

    @ParameterizedTest(name = "{1} n={0}")
    @MethodSource("lengthsAndWeightTypes")
    void dotOverWeightSegmentMatchesWithinSumRounding(int n, DType dtype) {
        long seed = seed(n, dtype.ordinal());
        SplittableRandom r = new SplittableRandom(seed);
        Tensor w = KernelTestSupport.randomWeights(r, dtype, ELEMENT_OFFSET + n + 5, -1, 1);
        float[] x = uniform(r, X_OFF + n + 4, -1, 1);
        float s = SCALAR.dot(w.data(), dtype, ELEMENT_OFFSET, x, X_OFF, n);
        float v = VECTOR.dot(w.data(), dtype, ELEMENT_OFFSET, x, X_OFF, n);
        double sumAbs = 0;
        for (int k = 0; k < n; k++) sumAbs += Math.abs((double) w.getFloat(ELEMENT_OFFSET + k) * x[X_OFF + k]);
        assertClose(s, v, SUM_SLACK * Math.sqrt(n) * U * sumAbs, where(seed, n, -1) + " " + dtype);
    }

    @ParameterizedTest(name = "n={0}")
    @MethodSource("lengths")
    void dotOfArraysMatchesWithinSumRounding(int n) {
        long seed = seed(n, 100);
        SplittableRandom r = new SplittableRandom(seed);
        float[] a = uniform(r, X_OFF + n + 4, -1, 1), b = uniform(r, B_OFF + n + 4, -1, 1);
        float s = SCALAR.dot(a, X_OFF, b, B_OFF, n);
        float v = VECTOR.dot(a, X_OFF, b, B_OFF, n);
        double sumAbs = 0;
        for (int k = 0; k < n; k++) sumAbs += Math.abs((double) a[X_OFF + k] * b[B_OFF + k]);
        assertClose(s, v, SUM_SLACK * Math.sqrt(n) * U * sumAbs, where(seed, n, -1));
    }

    // ------------------------------------------------------------------ widening

    /** Widening is exact in every format, so the two kernels must agree bit for bit (NaN ⇒ NaN). */
    @ParameterizedTest(name = "{1} n={0}")
    @MethodSource("lengthsAndWeightTypes")
    void toFloatIsBitExactOnRandomBitPatterns(int n, DType dtype) {
        long seed = seed(n, 200 + dtype.ordinal());
        SplittableRandom r = new SplittableRandom(seed);
        Tensor w = KernelTestSupport.allocate(dtype, ELEMENT_OFFSET + n + 5);
        for (long i = 0; i < ELEMENT_OFFSET + n + 5; i++) {
            if (dtype == DType.F32) w.data().setAtIndex(I32, i, r.nextInt());
            else w.data().setAtIndex(I16, i, (short) r.nextInt());
        }
        float[] s = uniform(r, OUT_OFF + n + 4, -9, 9), v = s.clone(), before = s.clone();
        SCALAR.toFloat(w.data(), dtype, ELEMENT_OFFSET, s, OUT_OFF, n);
        VECTOR.toFloat(w.data(), dtype, ELEMENT_OFFSET, v, OUT_OFF, n);
        for (int k = 0; k < n; k++) assertSameFloat(s[OUT_OFF + k], v[OUT_OFF + k], where(seed, n, k) + " " + dtype);
        assertUntouchedOutside(before, v, OUT_OFF, OUT_OFF + n, where(seed, n, -1));
    }

    /** Every one of the 65536 BF16 and F16 patterns, through both the SIMD body and the scalar tail. */
    @ParameterizedTest
    @EnumSource(names = {"BF16", "F16"})
    void toFloatIsBitExactOnEvery16BitPattern(DType dtype) {
        int count = 1 << 16;
        for (int shift : new int[] {0, 5}) { // shift 5 moves every pattern to another lane and the last ones into the tail
            int n = count + shift;
            Tensor w = KernelTestSupport.allocate(dtype, ELEMENT_OFFSET + n);
            for (int i = 0; i < n; i++) w.data().setAtIndex(I16, ELEMENT_OFFSET + i, (short) (i - shift));
            float[] s = new float[OUT_OFF + n + 3], v = new float[OUT_OFF + n + 3];
            Arrays.fill(v, 42f);
            float[] before = v.clone();
            SCALAR.toFloat(w.data(), dtype, ELEMENT_OFFSET, s, OUT_OFF, n);
            VECTOR.toFloat(w.data(), dtype, ELEMENT_OFFSET, v, OUT_OFF, n);
            for (int i = 0; i < n; i++) {
                int bits = (i - shift) & 0xFFFF;
                assertSameFloat(s[OUT_OFF + i], v[OUT_OFF + i], dtype + " pattern 0x" + Integer.toHexString(bits) + " shift " + shift);
            }
            assertUntouchedOutside(before, v, OUT_OFF, OUT_OFF + n, dtype + " shift " + shift);
        }
    }

    /**
     * Named F16 and BF16 values with their exact F32 meaning, repeated so each sits in the SIMD
     * body and in the tail: the F16 path rebiases by ×2^112, which must keep subnormals exact and
     * leave Inf/NaN to the blend.
     */
    @ParameterizedTest
    @EnumSource(names = {"BF16", "F16"})
    void toFloatWidensSpecialValuesExactly(DType dtype) {
        int[][] cases = dtype == DType.F16 ? new int[][] {
            {0x0001, Float.floatToRawIntBits(0x1p-24f)}, // smallest subnormal
            {0x8001, Float.floatToRawIntBits(-0x1p-24f)},
            {0x03FF, Float.floatToRawIntBits(0x1.ff8p-15f)}, // largest subnormal
            {0x0400, Float.floatToRawIntBits(0x1p-14f)}, // smallest normal
            {0x7BFF, Float.floatToRawIntBits(65504f)}, // max finite
            {0xFBFF, Float.floatToRawIntBits(-65504f)},
            {0x7C00, Float.floatToRawIntBits(Float.POSITIVE_INFINITY)},
            {0xFC00, Float.floatToRawIntBits(Float.NEGATIVE_INFINITY)},
            {0x0000, Float.floatToRawIntBits(0f)},
            {0x8000, Float.floatToRawIntBits(-0f)},
            {0x3C00, Float.floatToRawIntBits(1f)},
            {0xC000, Float.floatToRawIntBits(-2f)},
            {0x3555, Float.floatToRawIntBits(0x1.554p-2f)},
            {0x7E00, Float.floatToRawIntBits(Float.NaN)},
            {0x7C01, Float.floatToRawIntBits(Float.NaN)}, // signalling NaN
            {0xFFFF, Float.floatToRawIntBits(Float.NaN)},
        } : new int[][] {
            {0x0001, Float.floatToRawIntBits(0x1p-133f)}, // BF16 subnormal = F32 subnormal
            {0x8000, Float.floatToRawIntBits(-0f)},
            {0x0000, Float.floatToRawIntBits(0f)},
            {0x3F80, Float.floatToRawIntBits(1f)},
            {0xC040, Float.floatToRawIntBits(-3f)},
            {0x7F7F, Float.floatToRawIntBits(0x1.fep127f)}, // max finite
            {0x0080, Float.floatToRawIntBits(0x1p-126f)}, // min normal
            {0x7F80, Float.floatToRawIntBits(Float.POSITIVE_INFINITY)},
            {0xFF80, Float.floatToRawIntBits(Float.NEGATIVE_INFINITY)},
            {0x7FC0, Float.floatToRawIntBits(Float.NaN)},
            {0x7F81, Float.floatToRawIntBits(Float.NaN)}, // signalling NaN
            {0xFFC1, Float.floatToRawIntBits(Float.NaN)},
        };
        int n = 4 * lanes + 3 + cases.length;
        Tensor w = KernelTestSupport.allocate(dtype, ELEMENT_OFFSET + n);
        for (int i = 0; i < n; i++) w.data().setAtIndex(I16, ELEMENT_OFFSET + i, (short) cases[i % cases.length][0]);
        for (Kernels kernels : new Kernels[] {SCALAR, VECTOR}) {
            float[] out = new float[OUT_OFF + n];
            kernels.toFloat(w.data(), dtype, ELEMENT_OFFSET, out, OUT_OFF, n);
            for (int i = 0; i < n; i++) {
                int[] c = cases[i % cases.length];
                assertSameFloat(Float.intBitsToFloat(c[1]), out[OUT_OFF + i],
                        kernels.name() + " " + dtype + " 0x" + Integer.toHexString(c[0]) + " at " + i);
            }
        }
    }

    // ------------------------------------------------------------------ axpy, add

    @ParameterizedTest(name = "n={0}")
    @MethodSource("lengths")
    void axpyMatchesWithinOneRoundingOfTheProduct(int n) {
        long seed = seed(n, 300);
        SplittableRandom r = new SplittableRandom(seed);
        float alpha = (float) r.nextDouble(-2, 2);
        float[] x = uniform(r, X_OFF + n + 4, -3, 3);
        float[] s = uniform(r, OUT_OFF + n + 4, -3, 3), v = s.clone(), before = s.clone();
        SCALAR.axpy(alpha, x, X_OFF, s, OUT_OFF, n);
        VECTOR.axpy(alpha, x, X_OFF, v, OUT_OFF, n);
        for (int k = 0; k < n; k++) {
            // The vector kernel fuses y + α·x (one rounding), the scalar one rounds α·x first: they
            // differ by at most U·|α·x| + U·|y'| each side.
            double tol = 2 * U * (Math.abs((double) alpha * x[X_OFF + k]) + Math.abs(s[OUT_OFF + k]));
            assertClose(s[OUT_OFF + k], v[OUT_OFF + k], tol, where(seed, n, k));
        }
        assertUntouchedOutside(before, v, OUT_OFF, OUT_OFF + n, where(seed, n, -1));
    }

    @ParameterizedTest(name = "n={0}")
    @MethodSource("lengths")
    void addIsBitExact(int n) {
        long seed = seed(n, 400);
        SplittableRandom r = new SplittableRandom(seed);
        float[] x = uniform(r, X_OFF + n + 4, -3, 3);
        float[] s = uniform(r, OUT_OFF + n + 4, -3, 3), v = s.clone(), before = s.clone();
        SCALAR.add(x, X_OFF, s, OUT_OFF, n);
        VECTOR.add(x, X_OFF, v, OUT_OFF, n);
        // One correctly rounded addition per element in both: identical.
        for (int k = 0; k < n; k++) assertSameFloat(s[OUT_OFF + k], v[OUT_OFF + k], where(seed, n, k));
        assertUntouchedOutside(before, v, OUT_OFF, OUT_OFF + n, where(seed, n, -1));
    }

    // ------------------------------------------------------------------ norms

    @ParameterizedTest(name = "n={0}")
    @MethodSource("lengths")
    void rmsNormMatchesWithinSumOfSquaresRounding(int n) {
        long seed = seed(n, 500);
        SplittableRandom r = new SplittableRandom(seed);
        float[] x = uniform(r, X_OFF + n + 4, -3, 3), weight = uniform(r, n, 0.5, 1.5);
        float[] s = uniform(r, OUT_OFF + n + 4, -9, 9), v = s.clone(), before = s.clone();
        SCALAR.rmsNorm(x, X_OFF, n, weight, 1e-6f, s, OUT_OFF);
        VECTOR.rmsNorm(x, X_OFF, n, weight, 1e-6f, v, OUT_OFF);
        for (int k = 0; k < n; k++) {
            // Only Σx² is summed differently (relative error ≲ SUM_SLACK·√n·U, halved by the square
            // root); x·inv·w is the same two roundings in both kernels.
            double tol = (SUM_SLACK * Math.sqrt(n) + 4) * U * Math.abs(s[OUT_OFF + k]);
            assertClose(s[OUT_OFF + k], v[OUT_OFF + k], tol, where(seed, n, k));
        }
        assertUntouchedOutside(before, v, OUT_OFF, OUT_OFF + n, where(seed, n, -1));
    }

    static Stream<Arguments> lengthsAndAffine() {
        return Arrays.stream(LENGTHS).boxed().flatMap(n -> Stream.of(
                Arguments.of(n, true, true), Arguments.of(n, true, false), Arguments.of(n, false, true), Arguments.of(n, false, false)));
    }

    @ParameterizedTest(name = "n={0} weight={1} bias={2}")
    @MethodSource("lengthsAndAffine")
    void layerNormMatchesWithinMeanAndVarianceRounding(int n, boolean withWeight, boolean withBias) {
        long seed = seed(n, 600 + (withWeight ? 2 : 0) + (withBias ? 1 : 0));
        SplittableRandom r = new SplittableRandom(seed);
        float[] x = uniform(r, X_OFF + n + 4, -1, 5); // a non-zero mean, so the centring matters
        float[] weight = withWeight ? uniform(r, n, 0.5, 1.5) : null, bias = withBias ? uniform(r, n, -1, 1) : null;
        float[] s = uniform(r, OUT_OFF + n + 4, -9, 9), v = s.clone(), before = s.clone();
        SCALAR.layerNorm(x, X_OFF, n, weight, bias, 1e-5f, s, OUT_OFF);
        VECTOR.layerNorm(x, X_OFF, n, weight, bias, 1e-5f, v, OUT_OFF);
        double meanAbs = 0, mean = 0, var = 0;
        for (int k = 0; k < n; k++) {
            meanAbs += Math.abs(x[X_OFF + k]) / n;
            mean += (double) x[X_OFF + k] / n;
        }
        for (int k = 0; k < n; k++) var += (x[X_OFF + k] - mean) * (x[X_OFF + k] - mean) / n;
        double inv = 1 / Math.sqrt(var + 1e-5);
        for (int k = 0; k < n; k++) {
            // The mean differs by ≲ √n·U·mean|x|, which reaches the output scaled by |w|·inv; the
            // variance's relative rounding scales the whole normalised value.
            double w = withWeight ? Math.abs(weight[k]) : 1, b = withBias ? Math.abs(bias[k]) : 0;
            double tol = (SUM_SLACK * Math.sqrt(n) + 4) * U * (Math.abs(s[OUT_OFF + k]) + w * inv * meanAbs + b);
            assertClose(s[OUT_OFF + k], v[OUT_OFF + k], tol, where(seed, n, k));
        }
        assertUntouchedOutside(before, v, OUT_OFF, OUT_OFF + n, where(seed, n, -1));
    }

    // ------------------------------------------------------------------ activations

    /** 3/4 of the values in [−10, 10], the rest in [−100, 100] (past F32 exp overflow at 88.7). */
    private static float[] activations(SplittableRandom r, int size) {
        float[] a = new float[size];
        for (int i = 0; i < size; i++) a[i] = (float) (r.nextInt(4) == 0 ? r.nextDouble(-100, 100) : r.nextDouble(-10, 10));
        return a;
    }

    private static double siluTol(float expected) {
        return TRANSCENDENTAL_REL * Math.abs(expected) + SILU_ABS_FLOOR;
    }

    @ParameterizedTest(name = "n={0}")
    @MethodSource("lengths")
    void siluMatchesWithinAFewUlp(int n) {
        long seed = seed(n, 700);
        SplittableRandom r = new SplittableRandom(seed);
        float[] s = activations(r, X_OFF + n + 4), v = s.clone(), before = s.clone();
        SCALAR.silu(s, X_OFF, n);
        VECTOR.silu(v, X_OFF, n);
        for (int k = X_OFF; k < X_OFF + n; k++) assertClose(s[k], v[k], siluTol(s[k]), where(seed, n, k) + " x=" + before[k]);
        assertUntouchedOutside(before, v, X_OFF, X_OFF + n, where(seed, n, -1));
    }

    @ParameterizedTest(name = "n={0}")
    @MethodSource("lengths")
    void siluMulMatchesWithinAFewUlp(int n) {
        long seed = seed(n, 800);
        SplittableRandom r = new SplittableRandom(seed);
        float[] s = activations(r, X_OFF + n + 4), v = s.clone(), before = s.clone();
        float[] up = uniform(r, X_OFF + n + 4, -4, 4), upBefore = up.clone();
        SCALAR.siluMul(s, up, X_OFF, n);
        VECTOR.siluMul(v, up, X_OFF, n);
        for (int k = X_OFF; k < X_OFF + n; k++) {
            // One more rounding (·up) than silu; the absolute floor scales with |up| ≤ 4.
            double tol = TRANSCENDENTAL_REL * Math.abs(s[k]) + 4 * SILU_ABS_FLOOR;
            assertClose(s[k], v[k], tol, where(seed, n, k) + " gate=" + before[k] + " up=" + up[k]);
        }
        assertUntouchedOutside(before, v, X_OFF, X_OFF + n, where(seed, n, -1));
        assertUntouchedOutside(upBefore, up, 0, 0, where(seed, n, -1) + " (up is read-only)");
    }

    @ParameterizedTest(name = "n={0}")
    @MethodSource("lengths")
    void geluMatchesWithinTheRationalErfError(int n) {
        long seed = seed(n, 900);
        SplittableRandom r = new SplittableRandom(seed);
        float[] s = uniform(r, X_OFF + n + 4, -GELU_RANGE, GELU_RANGE), v = s.clone(), before = s.clone();
        SCALAR.gelu(s, X_OFF, n);
        VECTOR.gelu(v, X_OFF, n);
        for (int k = X_OFF; k < X_OFF + n; k++) assertClose(s[k], v[k], GELU_ABS, where(seed, n, k) + " x=" + before[k]);
        assertUntouchedOutside(before, v, X_OFF, X_OFF + n, where(seed, n, -1));
    }

    @ParameterizedTest(name = "n={0}")
    @MethodSource("lengths")
    void geluTanhMatchesWithinAFewUlp(int n) {
        long seed = seed(n, 1000);
        SplittableRandom r = new SplittableRandom(seed);
        float[] s = activations(r, X_OFF + n + 4), v = s.clone(), before = s.clone();
        SCALAR.geluTanh(s, X_OFF, n);
        VECTOR.geluTanh(v, X_OFF, n);
        for (int k = X_OFF; k < X_OFF + n; k++) {
            // 0.5·x·(1 + tanh(·)) in F32: for x ≲ −3, 1 + tanh cancels, so the vector's F32 rounding of
            // tanh (≤ 2 ulp of 1) becomes an absolute error of 0.5·|x|·4U (the scalar kernel adds 1 in
            // double). PyTorch's F32 CPU kernel has the same cancellation.
            double tol = TRANSCENDENTAL_REL * Math.abs(s[k]) + 2 * U * Math.abs(before[k]);
            assertClose(s[k], v[k], tol, where(seed, n, k) + " x=" + before[k]);
        }
        assertUntouchedOutside(before, v, X_OFF, X_OFF + n, where(seed, n, -1));
    }

    @ParameterizedTest(name = "n={0}")
    @MethodSource("lengths")
    void softmaxMatchesWithinAFewUlpAndSumRounding(int n) {
        long seed = seed(n, 1100);
        SplittableRandom r = new SplittableRandom(seed);
        float[] s = uniform(r, X_OFF + n + 4, -20, 20), v = s.clone(), before = s.clone();
        if (n > 3) s[X_OFF + n / 2] = v[X_OFF + n / 2] = before[X_OFF + n / 2] = Float.NEGATIVE_INFINITY; // a masked logit
        SCALAR.softmax(s, X_OFF, n);
        VECTOR.softmax(v, X_OFF, n);
        for (int k = X_OFF; k < X_OFF + n; k++) {
            // exp to a few ulp per element, then the normalising sum in another order (√n·U).
            double tol = (TRANSCENDENTAL_REL + SUM_SLACK * Math.sqrt(n) * U) * Math.abs(s[k]);
            assertClose(s[k], v[k], tol, where(seed, n, k) + " x=" + before[k]);
        }
        if (n > 3) assertTrue(v[X_OFF + n / 2] == 0f, where(seed, n, n / 2) + ": exp(−inf) must be 0");
        assertUntouchedOutside(before, v, X_OFF, X_OFF + n, where(seed, n, -1));
    }

    /** Each output of rope is a·b − c·d (or + ): the same two products and one sum in both kernels. */
    @ParameterizedTest(name = "half={0}")
    @MethodSource("lengths")
    void ropeIsBitExact(int half) {
        long seed = seed(half, 1200);
        SplittableRandom r = new SplittableRandom(seed);
        int headDim = 2 * half;
        float[] cos = new float[half], sin = new float[half];
        for (int i = 0; i < half; i++) {
            double theta = r.nextDouble(-50, 50);
            cos[i] = (float) Math.cos(theta);
            sin[i] = (float) Math.sin(theta);
        }
        float[] s = uniform(r, X_OFF + headDim + 4, -3, 3), v = s.clone(), before = s.clone();
        SCALAR.rope(s, X_OFF, headDim, cos, sin);
        VECTOR.rope(v, X_OFF, headDim, cos, sin);
        for (int k = X_OFF; k < X_OFF + headDim; k++) assertSameFloat(s[k], v[k], where(seed, headDim, k));
        assertUntouchedOutside(before, v, X_OFF, X_OFF + headDim, where(seed, headDim, -1));
    }

    // ------------------------------------------------------------------ extreme inputs

    private static final float[] SPECIALS = {
        Float.NaN, Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY, 0f, -0f, 80f, -80f, 88.7f, -88.7f, 89f, -89f,
        1e30f, -1e30f, Float.MAX_VALUE, -Float.MAX_VALUE, Float.MIN_VALUE, -Float.MIN_VALUE, 1e-30f, -1e-30f,
        4f, -4f, 5.6568542f, -5.6568542f, 10f, -10f, 1f, -1f, 0.5f, -3f,
    };

    /** The specials, repeated past two SIMD blocks with an odd tail, at offset X_OFF. */
    private static float[] specials(int n) {
        float[] a = new float[X_OFF + n + 2];
        for (int i = 0; i < n; i++) a[X_OFF + i] = SPECIALS[i % SPECIALS.length];
        return a;
    }

    interface InPlace {
        void apply(Kernels k, float[] x, int off, int n);
    }

    static Stream<Arguments> activationKernels() {
        return Stream.of(
                Arguments.of("silu", (InPlace) Kernels::silu),
                Arguments.of("geluTanh", (InPlace) Kernels::geluTanh),
                Arguments.of("gelu", (InPlace) Kernels::gelu));
    }

    /**
     * NaN, ±Inf, ±0, ±80, ±1e30, ±MAX and subnormals through both kernels: they must agree on
     * NaN-ness and infinities, and otherwise within the tolerances above (gelu: GELU_ABS, now also
     * for |x| &gt; 10, where both must give x or 0).
     */
    @ParameterizedTest(name = "{0}")
    @MethodSource("activationKernels")
    void activationsAgreeOnExtremeValues(String name, InPlace op) {
        int n = 2 * SPECIALS.length + 3;
        float[] s = specials(n), v = s.clone(), x = s.clone();
        op.apply(SCALAR, s, X_OFF, n);
        op.apply(VECTOR, v, X_OFF, n);
        for (int k = X_OFF; k < X_OFF + n; k++) {
            double tol = switch (name) {
                case "silu" -> siluTol(s[k]);
                case "geluTanh" -> TRANSCENDENTAL_REL * Math.abs(s[k]) + 2 * U * Math.abs(x[k]);
                default -> GELU_ABS + U * Math.abs(s[k]);
            };
            assertClose(s[k], v[k], tol, name + " x=" + x[k] + " at " + k + " (" + VECTOR.name() + ")");
        }
    }

    @ParameterizedTest(name = "n={0}")
    @MethodSource("lengths")
    void softmaxAgreesWithHugeAndInfiniteLogits(int n) {
        long seed = seed(n, 1300);
        SplittableRandom r = new SplittableRandom(seed);
        float[] s = new float[X_OFF + n + 1];
        for (int k = X_OFF; k < X_OFF + n; k++) {
            int pick = r.nextInt(4);
            s[k] = pick == 0 ? Float.NEGATIVE_INFINITY : pick == 1 ? -1e30f : pick == 2 ? 1e30f : (float) r.nextDouble(-1, 1);
        }
        float[] v = s.clone(), before = s.clone();
        SCALAR.softmax(s, X_OFF, n);
        VECTOR.softmax(v, X_OFF, n);
        for (int k = X_OFF; k < X_OFF + n; k++) {
            double tol = (TRANSCENDENTAL_REL + SUM_SLACK * Math.sqrt(n) * U) * Math.abs(s[k]);
            assertClose(s[k], v[k], tol, where(seed, n, k) + " x=" + before[k]);
        }
    }

    // ------------------------------------------------------------------ reproducibility

    /**
     * The same call must give the same bits before and after the JIT compiles the kernels. A fresh
     * JVM starts the vector kernels in the interpreter (the Vector API's Java fallback) and moves to
     * C2's intrinsics within these iterations; a lane reduction whose order depends on that (as
     * {@code reduceLanes(ADD)}'s does) changed dot products by a few ulp mid-run. Covers the kernels
     * that sum lanes without a transcendental (EXP/TANH may legitimately differ by an ulp between
     * the fallback and the intrinsic, so softmax and the activations are not held to this).
     */
    @org.junit.jupiter.api.Test
    void reductionsGiveTheSameBitsBeforeAndAfterJitCompilation() throws Exception {
        String output = KernelTestSupport.runChildJvm(ReductionReproducibility.class, "--add-modules", "jdk.incubator.vector");
        String line = output.lines().filter(l -> l.startsWith("changed ")).findFirst().orElseThrow(() -> new AssertionError(output));
        assertEquals("changed none", line, "seed " + ReductionReproducibility.SEED + ": " + output);
    }

    /** The child: prints "changed none", or "changed" and the kernels whose result changed, with the iteration. */
    static final class ReductionReproducibility {
        static final long SEED = 0x12E9_20DL;

        public static void main(String[] args) {
            Kernels k = KernelSelection.vector();
            StringBuilder changed = new StringBuilder();
            for (int n : new int[] {64, 4097}) {
                SplittableRandom r = new SplittableRandom(SEED + n);
                Tensor w = KernelTestSupport.randomWeights(r, DType.BF16, n, -1, 1);
                float[] x = uniform(r, n, -1, 1), weight = uniform(r, n, 0.5, 1.5), out = new float[n];
                int[] first = null;
                int iterations = 400_000_000 / (n * 20) + 2_000;
                for (int it = 0; it < iterations; it++) {
                    k.rmsNorm(x, 0, n, weight, 1e-6f, out, 0);
                    int rms = Arrays.hashCode(out);
                    k.layerNorm(x, 0, n, weight, null, 1e-5f, out, 0);
                    int[] now = {
                        Float.floatToRawIntBits(k.dot(w.data(), DType.BF16, 0, x, 0, n)),
                        Float.floatToRawIntBits(k.dot(x, 0, weight, 0, n)), rms, Arrays.hashCode(out)};
                    if (first == null) first = now;
                    for (int i = 0; i < now.length; i++) {
                        if (now[i] != first[i]) {
                            changed.append(" ").append(new String[] {"dotBF16", "dot", "rmsNorm", "layerNorm"}[i])
                                    .append("(n=").append(n).append(")@").append(it);
                            first[i] = now[i];
                        }
                    }
                }
            }
            System.out.println("changed" + (changed.isEmpty() ? " none" : changed));
        }
    }
}
