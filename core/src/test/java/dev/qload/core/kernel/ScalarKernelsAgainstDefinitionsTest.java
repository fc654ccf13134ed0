package dev.qload.core.kernel;

import static dev.qload.core.kernel.KernelTestSupport.I16;
import static dev.qload.core.kernel.KernelTestSupport.U;
import static dev.qload.core.kernel.KernelTestSupport.assertClose;
import static dev.qload.core.kernel.KernelTestSupport.assertSameFloat;
import static dev.qload.core.kernel.KernelTestSupport.uniform;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.qload.core.tensor.DType;
import dev.qload.core.tensor.Tensor;
import java.util.Arrays;
import java.util.SplittableRandom;
import java.util.stream.IntStream;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The scalar reference against the mathematical definitions, evaluated here independently in
 * double precision (erf by Simpson quadrature rather than Erf's series and continued fraction),
 * plus the extreme-value behaviour that both kernels must share with PyTorch's F32 kernels.
 */
class ScalarKernelsAgainstDefinitionsTest {
    private static final long SEED = 0xDEF1_2E5EEDL;
    private static final Kernels SCALAR = Kernels.scalar();
    private static final int[] LENGTHS = {1, 2, 7, 16, 17, 33, 64, 257, 1000, 4097};
    /** Statistical bound on an F32 sum of n random terms, as in VectorMatchesScalarTest: SUM_SLACK·√n·U·Σ|terms|. */
    private static final double SUM_SLACK = 4;

    static IntStream lengths() {
        return Arrays.stream(LENGTHS);
    }

    static Stream<Kernels> bothKernels() {
        return Stream.of(SCALAR, KernelSelection.vector());
    }

    private static long seed(int n, int salt) {
        return SEED + 7919L * n + salt;
    }

    private static String where(long seed, int n, int k) {
        return "seed=" + seed + " n=" + n + " k=" + k;
    }

    // ================================================================== an independent erf

    /**
     * erfc(a) = 2/√π ∫_a^∞ e^(−t²) dt for a ≥ 0, by composite Simpson on [a, a + L] where the
     * neglected tail is below e^(−40) relative (L·(2a + L) ≥ 40). The step shrinks with a, since
     * the integrand's scale is 1/(2a): Simpson's error (b−a)·h⁴·|f⁗|/180 is then ≲ 1e−13
     * relative. Integrating from a (not 1 − ∫_0^a) keeps the relative accuracy of the far tail,
     * which is what x·Φ(x) needs for negative x.
     */
    static double erfcQuadrature(double a) {
        if (a < 0) throw new IllegalArgumentException("a must be ≥ 0");
        double len = Math.min(7, (-2 * a + Math.sqrt(4 * a * a + 160)) / 2);
        double hTarget = 1e-3 / (1 + 2 * a);
        int m = (int) Math.ceil(len / hTarget / 2) * 2; // even number of intervals
        double h = len / m;
        // Factor e^(−a²) out: e^(−t²) = e^(−a²) · e^(−s(2a + s)) with t = a + s.
        double sum = 1 + Math.exp(-len * (2 * a + len));
        for (int i = 1; i < m; i++) {
            double s = i * h;
            sum += (i % 2 == 1 ? 4 : 2) * Math.exp(-s * (2 * a + s));
        }
        return 2 / Math.sqrt(Math.PI) * Math.exp(-a * a) * sum * h / 3;
    }

    /** erf(x): Simpson on [0, |x|] for |x| &lt; 1 (keeps the relative accuracy near 0), 1 − erfc otherwise. */
    static double erfQuadrature(double x) {
        double a = Math.abs(x), r;
        if (a < 1) {
            int m = 2000;
            double h = a / m, sum = 1 + Math.exp(-a * a);
            for (int i = 1; i < m; i++) sum += (i % 2 == 1 ? 4 : 2) * Math.exp(-(i * h) * (i * h));
            r = 2 / Math.sqrt(Math.PI) * sum * h / 3;
        } else {
            r = 1 - erfcQuadrature(a);
        }
        return Math.copySign(r, x);
    }

    /** Exact GELU x·Φ(x) = x/2 · erfc(−x/√2), with erfc(−a) = 2 − erfc(a) for the positive side. */
    static double geluDefinition(double x) {
        double a = Math.abs(x) / Math.sqrt(2);
        double erfcOfMinus = x < 0 ? erfcQuadrature(a) : 2 - erfcQuadrature(a);
        return 0.5 * x * erfcOfMinus;
    }

    /** Standard table values (Abramowitz &amp; Stegun table 7.1, extended), to 16 digits. */
    private static final double[][] ERF_TABLE = {
        {0.5, 0.5204998778130465}, {1, 0.8427007929497149}, {2, 0.9953222650189527},
        {3, 0.9999779095030014}, {-1.5, -0.9661051464753108},
    };

    /**
     * Erf's absolute error. Its Maclaurin branch (|x| &lt; 2.5) sums alternating terms up to
     * e^(x²) ≈ 500 times larger than the result, so double rounding costs ~2.5 digits near the
     * switch: measured worst 6.4e−15 at x = 2.4796 (against CPython's math.erf, 0.0001 grid on
     * [−8, 8]). Far below F32's 6e−8 but more than the "about 1e−15" its Javadoc states.
     */
    private static final double ERF_ABS = 1e-14;

    @Test
    void erfMatchesTableValues() {
        for (double[] row : ERF_TABLE) {
            assertEquals(row[1], Erf.erf(row[0]), ERF_ABS, "Erf.erf(" + row[0] + ")");
            // and the test's own quadrature, so it can be trusted below
            assertEquals(row[1], erfQuadrature(row[0]), 1e-14, "erfQuadrature(" + row[0] + ")");
        }
    }

    @Test
    void erfMatchesQuadratureOnAFineGridAcrossTheMethodSwitchAt2point5() {
        for (int i = -800; i <= 800; i++) {
            double x = i / 100.0;
            assertEquals(erfQuadrature(x), Erf.erf(x), ERF_ABS, "erf(" + x + ")");
        }
        for (double x : new double[] {Math.nextDown(2.5), 2.5, Math.nextUp(2.5), 5.999999, 6, 6.000001, 1e-300, 1e-10}) {
            assertEquals(erfQuadrature(x), Erf.erf(x), ERF_ABS, "erf(" + x + ")");
            assertEquals(-Erf.erf(x), Erf.erf(-x), "erf is odd at " + x);
        }
    }

    @Test
    void erfIsRelativelyAccurateNearZeroAndSaturatesAtInfinity() {
        for (double x : new double[] {1e-300, 1e-10, 1e-5, 0.01, 0.3}) {
            double expected = erfQuadrature(x);
            assertEquals(expected, Erf.erf(x), 1e-13 * expected, "erf(" + x + ") relative");
        }
        assertEquals(1, Erf.erf(Double.POSITIVE_INFINITY));
        assertEquals(-1, Erf.erf(Double.NEGATIVE_INFINITY));
        assertTrue(Double.isNaN(Erf.erf(Double.NaN)));
        assertEquals(Double.doubleToRawLongBits(-0.0), Double.doubleToRawLongBits(Erf.erf(-0.0)), "erf(−0) = −0");
    }

    // ================================================================== dot and widening

    @ParameterizedTest(name = "n={0}")
    @MethodSource("lengths")
    void dotOfArraysIsTheSumOfProducts(int n) {
        long seed = seed(n, 1);
        SplittableRandom r = new SplittableRandom(seed);
        float[] a = uniform(r, n + 3, -1, 1), b = uniform(r, n + 5, -1, 1);
        double exact = 0, sumAbs = 0;
        for (int k = 0; k < n; k++) {
            exact += (double) a[3 + k] * b[5 + k];
            sumAbs += Math.abs((double) a[3 + k] * b[5 + k]);
        }
        assertClose(exact, SCALAR.dot(a, 3, b, 5, n), (SUM_SLACK * Math.sqrt(n) + 1) * U * sumAbs, where(seed, n, -1));
    }

    @Test
    void dotOfSmallIntegersIsExact() {
        // Products and partial sums of small integers are exact in F32, so any ordering gives the exact value.
        for (Kernels k : bothKernels().toList()) {
            int n = 1000;
            float[] a = new float[n + 1], b = new float[n + 2];
            long exact = 0;
            for (int i = 0; i < n; i++) {
                a[1 + i] = (i % 7) - 3;
                b[2 + i] = (i % 5) + 1;
                exact += (long) ((i % 7) - 3) * ((i % 5) + 1);
            }
            assertEquals((float) exact, k.dot(a, 1, b, 2, n), k.name());
        }
    }

    /** F32, BF16 and F16 weights against the value their bits denote, decoded here from the definition. */
    @ParameterizedTest
    @EnumSource(names = {"F32", "BF16", "F16"})
    void dotOverWeightsUsesTheDecodedWeights(DType dtype) {
        for (int n : LENGTHS) {
            long seed = seed(n, 10 + dtype.ordinal());
            SplittableRandom r = new SplittableRandom(seed);
            long elementOffset = 9;
            Tensor w = KernelTestSupport.randomWeights(r, dtype, elementOffset + n + 2, -1, 1);
            float[] x = uniform(r, n + 4, -1, 1);
            double exact = 0, sumAbs = 0;
            for (int k = 0; k < n; k++) {
                long i = elementOffset + k;
                double wk = switch (dtype) {
                    case F32 -> w.getFloat(i);
                    case BF16 -> KernelTestSupport.bf16Definition(w.data().getAtIndex(I16, i) & 0xFFFF);
                    default -> KernelTestSupport.f16Definition(w.data().getAtIndex(I16, i) & 0xFFFF);
                };
                exact += wk * x[4 + k];
                sumAbs += Math.abs(wk * x[4 + k]);
            }
            float got = SCALAR.dot(w.data(), dtype, elementOffset, x, 4, n);
            assertClose(exact, got, (SUM_SLACK * Math.sqrt(n) + 1) * U * sumAbs, where(seed, n, -1) + " " + dtype);
        }
    }

    @ParameterizedTest
    @EnumSource(names = {"BF16", "F16"})
    void toFloatDecodesEvery16BitPatternAsDefined(DType dtype) {
        int n = 1 << 16;
        Tensor w = KernelTestSupport.allocate(dtype, n + 1);
        for (int i = 0; i < n; i++) w.data().setAtIndex(I16, 1 + i, (short) i);
        float[] out = new float[n + 2];
        SCALAR.toFloat(w.data(), dtype, 1, out, 2, n);
        for (int i = 0; i < n; i++) {
            double def = dtype == DType.F16 ? KernelTestSupport.f16Definition(i) : KernelTestSupport.bf16Definition(i);
            assertSameFloat((float) def, out[2 + i], dtype + " 0x" + Integer.toHexString(i)); // exact in F32
        }
    }

    // ================================================================== norms

    @ParameterizedTest(name = "n={0}")
    @MethodSource("lengths")
    void rmsNormIsXOverRootMeanSquareTimesWeight(int n) {
        long seed = seed(n, 20);
        SplittableRandom r = new SplittableRandom(seed);
        float[] x = uniform(r, n + 2, -3, 3), weight = uniform(r, n, 0.5, 1.5);
        float eps = 1e-6f;
        double ss = 0;
        for (int k = 0; k < n; k++) ss += (double) x[2 + k] * x[2 + k];
        double inv = 1 / Math.sqrt(ss / n + eps);
        float[] out = new float[n + 1];
        SCALAR.rmsNorm(x, 2, n, weight, eps, out, 1);
        for (int k = 0; k < n; k++) {
            double expected = weight[k] * x[2 + k] * inv;
            // F32 Σx² (statistical √n bound, halved by the square root, kept whole here) and
            // 3 further roundings (cast of inv, ·inv, ·w).
            assertClose(expected, out[1 + k], (SUM_SLACK * Math.sqrt(n) + 4) * U * Math.abs(expected), where(seed, n, k));
        }
    }

    @ParameterizedTest(name = "n={0}")
    @MethodSource("lengths")
    void layerNormUsesTheBiasedVariance(int n) {
        long seed = seed(n, 30);
        SplittableRandom r = new SplittableRandom(seed);
        float[] x = uniform(r, n + 2, -1, 5), weight = uniform(r, n, 0.5, 1.5), bias = uniform(r, n, -1, 1);
        float eps = 1e-5f;
        double mean = 0, meanAbs = 0, var = 0;
        for (int k = 0; k < n; k++) {
            mean += (double) x[2 + k] / n;
            meanAbs += Math.abs(x[2 + k]) / n;
        }
        for (int k = 0; k < n; k++) var += (x[2 + k] - mean) * (x[2 + k] - mean) / n; // ÷n: biased, as nn.LayerNorm
        double inv = 1 / Math.sqrt(var + eps);
        float[] out = new float[n + 3];
        SCALAR.layerNorm(x, 2, n, weight, bias, eps, out, 3);
        for (int k = 0; k < n; k++) {
            double expected = (x[2 + k] - mean) * inv * weight[k] + bias[k];
            // the F32 mean errs by ≲ √n·U·mean|x|, scaled by w·inv at the output; the variance's
            // relative error scales the normalised value.
            double tol = (SUM_SLACK * Math.sqrt(n) + 4) * U * (Math.abs(expected) + weight[k] * inv * meanAbs + Math.abs(bias[k]));
            assertClose(expected, out[3 + k], tol, where(seed, n, k));
        }
    }

    @Test
    void layerNormDividesByNNotNMinusOne() {
        // x = {1, 3}: mean 2, biased variance 1 → ±1/√(1+eps); the unbiased variance 2 would give ±0.707.
        float[] out = new float[2];
        SCALAR.layerNorm(new float[] {1, 3}, 0, 2, null, null, 1e-5f, out, 0);
        assertEquals(-1 / Math.sqrt(1 + 1e-5), out[0], 1e-7);
        assertEquals(1 / Math.sqrt(1 + 1e-5), out[1], 1e-7);
    }

    // ================================================================== activations

    static double siluDefinition(double x) {
        // x·σ(x), with σ written as e^x/(1+e^x) for x < 0 (no overflow, no cancellation)
        return x >= 0 ? x / (1 + Math.exp(-x)) : x * Math.exp(x) / (1 + Math.exp(x));
    }

    /** ½x(1 + tanh z) written as x·σ(2z) (1 + tanh z = 2/(1 + e^(−2z))), which does not cancel for z &lt; 0. */
    static double geluTanhDefinition(double x) {
        double z = Math.sqrt(2 / Math.PI) * (x + 0.044715 * x * x * x);
        return z >= 0 ? x / (1 + Math.exp(-2 * z)) : x * Math.exp(2 * z) / (1 + Math.exp(2 * z));
    }

    private static float[] activationInputs(SplittableRandom r, int n) {
        float[] x = new float[n];
        for (int i = 0; i < n; i++) x[i] = (float) (r.nextInt(4) == 0 ? r.nextDouble(-90, 90) : r.nextDouble(-10, 10));
        return x;
    }

    @ParameterizedTest(name = "n={0}")
    @MethodSource("lengths")
    void siluIsXTimesSigmoid(int n) {
        long seed = seed(n, 40);
        float[] x = activationInputs(new SplittableRandom(seed), n), y = x.clone();
        SCALAR.silu(y, 0, n);
        // computed in double and rounded once: within one rounding (U relative), or the smallest subnormal
        for (int k = 0; k < n; k++) {
            double e = siluDefinition(x[k]);
            assertClose(e, y[k], 1.01 * U * Math.abs(e) + Float.MIN_VALUE, where(seed, n, k) + " x=" + x[k]);
        }
    }

    @ParameterizedTest(name = "n={0}")
    @MethodSource("lengths")
    void siluMulGatesUp(int n) {
        long seed = seed(n, 45);
        SplittableRandom r = new SplittableRandom(seed);
        float[] gate = activationInputs(r, n + 2), up = uniform(r, n + 2, -4, 4), x = gate.clone();
        SCALAR.siluMul(gate, up, 2, n);
        for (int k = 2; k < n + 2; k++) {
            double e = siluDefinition(x[k]) * up[k]; // two roundings
            assertClose(e, gate[k], 2.01 * U * Math.abs(e) + 4 * Float.MIN_VALUE, where(seed, n, k) + " gate=" + x[k]);
        }
        assertEquals(Float.floatToRawIntBits(x[0]), Float.floatToRawIntBits(gate[0]), "before off untouched");
    }

    @ParameterizedTest(name = "n={0}")
    @MethodSource("lengths")
    void geluIsXTimesNormalCdf(int n) {
        long seed = seed(n, 50);
        float[] x = uniform(new SplittableRandom(seed), n, -10, 10), y = x.clone();
        SCALAR.gelu(y, 0, n);
        for (int k = 0; k < n; k++) {
            double e = geluDefinition(x[k]);
            // double evaluation rounded once (U relative); Erf's absolute error reaches the result
            // as 0.5·|x|·ERF_ABS (for x < 0, 1 + erf(x/√2) cancels, so it is not relative).
            assertClose(e, y[k], 1.01 * U * Math.abs(e) + 0.5 * ERF_ABS * Math.abs(x[k]), where(seed, n, k) + " x=" + x[k]);
        }
    }

    @ParameterizedTest(name = "n={0}")
    @MethodSource("lengths")
    void geluTanhIsTheTanhApproximation(int n) {
        long seed = seed(n, 60);
        float[] x = activationInputs(new SplittableRandom(seed), n), y = x.clone();
        SCALAR.geluTanh(y, 0, n);
        for (int k = 0; k < n; k++) {
            double e = geluTanhDefinition(x[k]);
            double z = Math.sqrt(2 / Math.PI) * (x[k] + 0.044715 * x[k] * x[k] * x[k]);
            // The reference forms z = √(2/π)(x + 0.044715x³) in F32, as PyTorch's F32 kernel does:
            // two F32 constants and 5 roundings, no cancellation (x and x³ share a sign) ⇒ ≤ 7U
            // relative in z; d/dz ln(1 + tanh z) = 1 − tanh z ≤ 2, so ≤ 14·|z|·U relative in the
            // output, plus its final rounding. Then 1 + Math.tanh(z) in double: tanh is within 2.5
            // ulp (≤ 2.5·2^−53 near ±1), which the cancellation for z < 0 turns into an absolute
            // 0.5·|x|·2.5·2^−53.
            double tol = (14 * Math.abs(z) + 2) * U * Math.abs(e) + 1.25 * 0x1p-53 * Math.abs(x[k]) + Float.MIN_VALUE;
            assertClose(e, y[k], tol, where(seed, n, k) + " x=" + x[k]);
        }
    }

    @ParameterizedTest(name = "n={0}")
    @MethodSource("lengths")
    void softmaxIsNormalisedExp(int n) {
        long seed = seed(n, 70);
        float[] x = uniform(new SplittableRandom(seed), n + 1, -20, 20), y = x.clone();
        SCALAR.softmax(y, 1, n);
        double max = Double.NEGATIVE_INFINITY, sum = 0;
        for (int k = 1; k <= n; k++) max = Math.max(max, x[k]);
        for (int k = 1; k <= n; k++) sum += Math.exp(x[k] - max);
        double total = 0;
        for (int k = 1; k <= n; k++) {
            double e = Math.exp(x[k] - max) / sum;
            // x − max is rounded in F32 (U·|x − max| absolute in the exponent ⇒ that much relative),
            // then exp, the F32 sum (√n bound) and the reciprocal and product.
            double tol = (Math.abs(x[k] - max) + SUM_SLACK * Math.sqrt(n) + 4) * U * e;
            assertClose(e, y[k], tol, where(seed, n, k) + " x=" + x[k]);
            total += y[k];
        }
        assertEquals(1, total, (SUM_SLACK * Math.sqrt(n) + 4) * U * n, where(seed, n, -1) + ": probabilities sum to 1");
        assertEquals(Float.floatToRawIntBits(x[0]), Float.floatToRawIntBits(y[0]), "before off untouched");
    }

    @ParameterizedTest(name = "half={0}")
    @MethodSource("lengths")
    void ropeRotatesHalves(int half) {
        long seed = seed(half, 80);
        SplittableRandom r = new SplittableRandom(seed);
        int d = 2 * half;
        float[] cos = new float[half], sin = new float[half];
        for (int i = 0; i < half; i++) {
            double theta = r.nextDouble(-100, 100);
            cos[i] = (float) Math.cos(theta);
            sin[i] = (float) Math.sin(theta);
        }
        float[] x = uniform(r, d + 3, -3, 3), y = x.clone();
        SCALAR.rope(y, 3, d, cos, sin);
        for (int i = 0; i < half; i++) {
            double x1 = x[3 + i], x2 = x[3 + half + i];
            double e1 = x1 * cos[i] - x2 * sin[i], e2 = x2 * cos[i] + x1 * sin[i];
            // two rounded products and one rounded sum: ≤ 2U·(|a| + |b|)
            double bound = 2 * U * (Math.abs(x1 * cos[i]) + Math.abs(x2 * sin[i]));
            double bound2 = 2 * U * (Math.abs(x2 * cos[i]) + Math.abs(x1 * sin[i]));
            assertClose(e1, y[3 + i], bound, where(seed, d, i));
            assertClose(e2, y[3 + half + i], bound2, where(seed, d, half + i));
        }
    }

    @Test
    void ropeWithQuarterTurnMapsToMinusSecondHalfAndFirstHalf() {
        // rotate_half: cos 0, sin 1 ⇒ (x1, x2) → (−x2, x1), exactly; the pairs are (i, i + d/2), not (2i, 2i+1).
        for (Kernels k : bothKernels().toList()) {
            int d = 40;
            float[] x = new float[d], cos = new float[d / 2], sin = new float[d / 2];
            for (int i = 0; i < d; i++) x[i] = i + 1;
            Arrays.fill(sin, 1f);
            k.rope(x, 0, d, cos, sin);
            for (int i = 0; i < d / 2; i++) {
                assertEquals(-(i + 1 + d / 2), x[i], k.name() + " first half " + i);
                assertEquals(i + 1, x[i + d / 2], k.name() + " second half " + i);
            }
        }
    }

    // ================================================================== extremes, both kernels

    private static final int EXTREME_N = 37; // > 2 SIMD blocks of 16 lanes, odd tail

    @ParameterizedTest(name = "{0}")
    @MethodSource("bothKernels")
    void softmaxOfHugeLogitsPutsAllMassOnTheMaxima(Kernels k) {
        float[] x = new float[EXTREME_N];
        Arrays.fill(x, -1e30f);
        x[3] = 1e30f;
        x[EXTREME_N - 2] = 1e30f;
        x[20] = 0f;
        k.softmax(x, 0, EXTREME_N);
        for (int i = 0; i < EXTREME_N; i++) {
            float expected = i == 3 || i == EXTREME_N - 2 ? 0.5f : 0f; // exp(−2e30) and exp(−1e30) are 0
            assertEquals(expected, x[i], k.name() + " at " + i);
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("bothKernels")
    void softmaxGivesMinusInfinityZeroWeight(Kernels k) {
        long seed = seed(EXTREME_N, 90);
        float[] x = uniform(new SplittableRandom(seed), EXTREME_N, -3, 3);
        for (int i = 0; i < EXTREME_N; i += 3) x[i] = Float.NEGATIVE_INFINITY;
        float[] y = x.clone();
        k.softmax(y, 0, EXTREME_N);
        double max = Double.NEGATIVE_INFINITY, sum = 0;
        for (float v : x) max = Math.max(max, v);
        for (float v : x) sum += Math.exp(v - max);
        for (int i = 0; i < EXTREME_N; i++) {
            if (i % 3 == 0) assertTrue(y[i] == 0f, k.name() + " seed=" + seed + ": −inf at " + i + " gave " + y[i]);
            else assertClose(Math.exp(x[i] - max) / sum, y[i], 2e-6 * y[i], k.name() + " seed=" + seed + " at " + i);
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("bothKernels")
    void softmaxOfAllMinusInfinityIsNaNAsInPyTorch(Kernels k) {
        // max = −inf, −inf − (−inf) = NaN: torch.softmax(tensor([-inf, -inf])) is [nan, nan] too.
        float[] x = new float[EXTREME_N];
        Arrays.fill(x, Float.NEGATIVE_INFINITY);
        k.softmax(x, 0, EXTREME_N);
        for (int i = 0; i < EXTREME_N; i++) assertTrue(Float.isNaN(x[i]), k.name() + " at " + i + " gave " + x[i]);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("bothKernels")
    void rmsNormOfZerosIsZeroBecauseEpsKeepsItFinite(Kernels k) {
        float[] x = new float[EXTREME_N], w = new float[EXTREME_N], out = new float[EXTREME_N];
        Arrays.fill(w, 1.5f);
        Arrays.fill(out, Float.NaN);
        k.rmsNorm(x, 0, EXTREME_N, w, 1e-6f, out, 0);
        for (int i = 0; i < EXTREME_N; i++) assertTrue(out[i] == 0f, k.name() + " at " + i + " gave " + out[i]);
    }

    /**
     * 1e20² overflows F32, so Σx² = +inf, 1/√inf = 0 and every output is 0 — what PyTorch's
     * {@code x.pow(2).mean(-1)} then {@code rsqrt} give in F32 too (LlamaRMSNorm upcasts to F32,
     * not F64). Both kernels must agree on it, including a single huge element among small ones.
     */
    @ParameterizedTest(name = "{0}")
    @MethodSource("bothKernels")
    void rmsNormWhoseSumOfSquaresOverflowsGivesZeros(Kernels k) {
        float[] w = new float[EXTREME_N];
        Arrays.fill(w, 1f);
        float[] all = new float[EXTREME_N], one = new float[EXTREME_N];
        Arrays.fill(all, 1e20f);
        Arrays.fill(one, 0.5f);
        one[EXTREME_N - 3] = -1e20f;
        for (float[] x : new float[][] {all, one}) {
            float[] out = new float[EXTREME_N];
            Arrays.fill(out, Float.NaN);
            k.rmsNorm(x, 0, EXTREME_N, w, 1e-6f, out, 0);
            for (int i = 0; i < EXTREME_N; i++) assertTrue(out[i] == 0f, k.name() + " x=" + x[i] + " at " + i + " gave " + out[i]);
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("bothKernels")
    void activationsSaturateAtLargeMagnitudes(Kernels k) {
        float[] pos = {80f, 1e30f, Float.MAX_VALUE, Float.POSITIVE_INFINITY};
        float[] neg = {-80f, -1e30f, -Float.MAX_VALUE};
        for (String op : new String[] {"silu", "gelu", "geluTanh"}) {
            float[] x = new float[EXTREME_N];
            for (int i = 0; i < EXTREME_N; i++) x[i] = i % 2 == 0 ? pos[(i / 2) % pos.length] : neg[(i / 2) % neg.length];
            float[] y = x.clone();
            switch (op) {
                case "silu" -> k.silu(y, 0, EXTREME_N);
                case "gelu" -> k.gelu(y, 0, EXTREME_N);
                default -> k.geluTanh(y, 0, EXTREME_N);
            }
            for (int i = 0; i < EXTREME_N; i++) {
                String where = k.name() + " " + op + "(" + x[i] + ") at " + i;
                if (x[i] > 0) {
                    assertEquals(x[i], y[i], where); // σ(x), Φ(x), ½(1+tanh) are 1 in F32
                } else if (op.equals("silu") && x[i] == -80f) {
                    // −80·e^−80 ≈ −1.45e−33 is still a normal F32: exp in F32 is a few ulp off at most
                    assertClose(siluDefinition(-80), y[i], 1e-6 * 1.45e-33, where);
                } else {
                    assertTrue(y[i] == 0f, where + " gave " + y[i]); // the true value underflows F32
                }
            }
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("bothKernels")
    void nanPropagatesOnlyWhereTheMathSaysSo(Kernels k) {
        int nanAt = 19; // in the second SIMD block
        float[] x = uniform(new SplittableRandom(SEED), EXTREME_N, -2, 2);
        x[nanAt] = Float.NaN;
        // element-wise: NaN stays where it is, neighbours stay finite
        for (String op : new String[] {"silu", "gelu", "geluTanh", "siluMul", "axpy"}) {
            float[] y = x.clone();
            float[] up = new float[EXTREME_N];
            Arrays.fill(up, 1.5f);
            switch (op) {
                case "silu" -> k.silu(y, 0, EXTREME_N);
                case "gelu" -> k.gelu(y, 0, EXTREME_N);
                case "geluTanh" -> k.geluTanh(y, 0, EXTREME_N);
                case "siluMul" -> k.siluMul(y, up, 0, EXTREME_N);
                default -> {
                    y = new float[EXTREME_N];
                    k.axpy(0.5f, x, 0, y, 0, EXTREME_N);
                }
            }
            for (int i = 0; i < EXTREME_N; i++) {
                if (i == nanAt) assertTrue(Float.isNaN(y[i]), k.name() + " " + op + ": NaN lost");
                else assertTrue(Float.isFinite(y[i]), k.name() + " " + op + " at " + i + " gave " + y[i]);
            }
        }
        // reductions: one NaN poisons every output (as in PyTorch)
        float[] w = new float[EXTREME_N];
        Arrays.fill(w, 1f);
        float[] out = new float[EXTREME_N];
        k.rmsNorm(x, 0, EXTREME_N, w, 1e-6f, out, 0);
        for (int i = 0; i < EXTREME_N; i++) assertTrue(Float.isNaN(out[i]), k.name() + " rmsNorm at " + i);
        k.layerNorm(x, 0, EXTREME_N, w, null, 1e-5f, out, 0);
        for (int i = 0; i < EXTREME_N; i++) assertTrue(Float.isNaN(out[i]), k.name() + " layerNorm at " + i);
        float[] s = x.clone();
        k.softmax(s, 0, EXTREME_N);
        for (int i = 0; i < EXTREME_N; i++) assertTrue(Float.isNaN(s[i]), k.name() + " softmax at " + i);
        assertTrue(Float.isNaN(k.dot(x, 0, w, 0, EXTREME_N)), k.name() + " dot");
    }
}
