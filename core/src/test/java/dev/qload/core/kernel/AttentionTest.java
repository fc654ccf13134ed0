package dev.qload.core.kernel;

import static dev.qload.core.kernel.KernelTestSupport.U;
import static dev.qload.core.kernel.KernelTestSupport.assertClose;
import static dev.qload.core.kernel.KernelTestSupport.assertUntouchedOutside;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.SplittableRandom;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * {@code Attention.attend} against eager attention written out in double: the full score row over
 * all cached positions, an explicit causal + sliding-window mask (−∞), the GQA head mapping, and
 * the sink as an extra softmax column that is dropped after normalising.
 */
class AttentionTest {
    private static final long SEED = 0xA77E_4710L;
    private static final int Q_OFF = 5, OUT_OFF = 3;

    static Stream<Arguments> cases() {
        Stream.Builder<Arguments> b = Stream.builder();
        int[][] headConfigs = {{4, 4}, {4, 2}, {8, 1}};
        for (int[] hc : headConfigs)
            for (int headDim : new int[] {8, 16, 64})
                for (int pos : new int[] {0, 1, 6, 40})
                    for (int window : new int[] {0, 1, 4})
                        for (boolean sinks : new boolean[] {false, true})
                            for (String kernels : new String[] {"scalar", "vector"})
                                b.add(Arguments.of(hc[0], hc[1], headDim, pos, window, sinks, kernels));
        return b.build();
    }

    private static long seed(int heads, int kvHeads, int headDim, int pos, int window, boolean sinks) {
        return SEED + 1_000_003L * heads + 100_003L * kvHeads + 10_007L * headDim + 101L * pos + 11L * window + (sinks ? 1 : 0);
    }

    /** Eager attention for one query, in double; {@code probs[h][j]} receives the weights of positions j ≤ pos. */
    static double[] naive(float[] q, int qOff, float[] keys, float[] values, int pos, int heads, int kvHeads, int headDim,
                          int window, float[] sinks, double scale, double[][] probs) {
        double[] out = new double[heads * headDim];
        int kvStride = kvHeads * headDim;
        for (int h = 0; h < heads; h++) {
            int g = h / (heads / kvHeads); // repeat_kv: query head h reads kv head h / n_rep
            int cols = pos + 1 + (sinks == null ? 0 : 1); // every cached position j ≤ pos, plus the sink
            double[] s = new double[cols];
            for (int j = 0; j <= pos; j++) {
                boolean visible = j <= pos && (window == 0 || pos - j < window);
                if (!visible) {
                    s[j] = Double.NEGATIVE_INFINITY;
                    continue;
                }
                double dot = 0;
                for (int d = 0; d < headDim; d++) dot += (double) q[qOff + h * headDim + d] * keys[j * kvStride + g * headDim + d];
                s[j] = scale * dot;
            }
            if (sinks != null) s[pos + 1] = sinks[h];
            double max = Double.NEGATIVE_INFINITY, sum = 0;
            for (double v : s) max = Math.max(max, v);
            for (double v : s) sum += Math.exp(v - max);
            for (int j = 0; j <= pos; j++) {
                double p = Math.exp(s[j] - max) / sum; // the sink's share is never added to the output
                probs[h][j] = p;
                for (int d = 0; d < headDim; d++) out[h * headDim + d] += p * values[j * kvStride + g * headDim + d];
            }
        }
        return out;
    }

    @ParameterizedTest(name = "heads={0}/{1} d={2} pos={3} window={4} sinks={5} {6}")
    @MethodSource("cases")
    void attendMatchesEagerAttentionInDouble(int heads, int kvHeads, int headDim, int pos, int window, boolean withSinks, String kernelName) {
        long seed = seed(heads, kvHeads, headDim, pos, window, withSinks);
        SplittableRandom r = new SplittableRandom(seed);
        Kernels k = MatMulTest.kernels(kernelName);
        int kvStride = kvHeads * headDim;
        float[] q = KernelTestSupport.uniform(r, Q_OFF + heads * headDim + 2, -2, 2);
        float[] keys = KernelTestSupport.uniform(r, (pos + 1) * kvStride, -2, 2);
        float[] values = KernelTestSupport.uniform(r, (pos + 1) * kvStride, -1, 1);
        float[] sinks = withSinks ? KernelTestSupport.uniform(r, heads, -2, 3) : null;
        float scale = (float) (1 / Math.sqrt(headDim));
        float[] scores = new float[pos + 2]; // the documented minimum
        float[] out = KernelTestSupport.uniform(r, OUT_OFF + heads * headDim + 4, 5, 9), before = out.clone();

        Attention.attend(k, q, Q_OFF, keys, values, pos, heads, kvHeads, headDim, window, sinks, scale, scores, out, OUT_OFF);
        double[][] probs = new double[heads][pos + 1];
        double[] expected = naive(q, Q_OFF, keys, values, pos, heads, kvHeads, headDim, window, sinks, scale, probs);

        for (int h = 0; h < heads; h++) {
            int g = h / (heads / kvHeads);
            // Error budget, all F32: each score is a headDim-term dot product, off by ≤ √d·U·Σ|q·k|·scale
            // (statistically; ×4 slack); a score error δ changes its weight by a factor e^δ ≈ 1 + δ and
            // the normaliser by ≤ δ, so ≤ 2δ_max relative on every p_j; softmax itself adds the
            // exp/sum/normalise roundings (≤ (√n + 4)·U relative, ×4 slack); the weighted sum
            // Σ p_j·v_j adds √n·U·Σ p_j|v_j|. Everything scales with Σ_j p_j·|v_j,d|.
            double maxDotAbs = 0;
            for (int j = 0; j <= pos; j++) {
                double a = 0;
                for (int d = 0; d < headDim; d++) a += Math.abs((double) q[Q_OFF + h * headDim + d] * keys[j * kvStride + g * headDim + d]);
                maxDotAbs = Math.max(maxDotAbs, a * scale);
            }
            int n = pos + 2;
            double relative = 2 * 4 * Math.sqrt(headDim) * U * maxDotAbs + 8 * (Math.sqrt(n) + 4) * U;
            for (int d = 0; d < headDim; d++) {
                double weightedAbs = 0; // Σ_j p_j·|v_j,d| from the reference weights
                double e = expected[h * headDim + d];
                for (int j = 0; j <= pos; j++) weightedAbs += probs[h][j] * Math.abs(values[j * kvStride + g * headDim + d]);
                assertClose(e, out[OUT_OFF + h * headDim + d], relative * weightedAbs + U * Math.abs(e),
                        "seed=" + seed + " " + kernelName + " head " + h + " dim " + d);
            }
        }
        assertUntouchedOutside(before, out, OUT_OFF, OUT_OFF + heads * headDim, "seed=" + seed);
    }

    static Stream<Arguments> windowOfOne() {
        Stream.Builder<Arguments> b = Stream.builder();
        for (int[] hc : new int[][] {{4, 4}, {4, 2}, {8, 1}})
            for (int pos : new int[] {0, 1, 6, 40})
                for (String kernels : new String[] {"scalar", "vector"}) b.add(Arguments.of(hc[0], hc[1], pos, kernels));
        return b.build();
    }

    /** A window of 1 sees only the query's own position: softmax of one score is exactly 1, so o_h = v_pos,g(h) exactly. */
    @ParameterizedTest(name = "heads={0}/{1} pos={2} {3}")
    @MethodSource("windowOfOne")
    void windowOfOneAttendsOnlyToItself(int heads, int kvHeads, int pos, String kernelName) {
        long seed = seed(heads, kvHeads, 16, pos, 1, false) + 12345;
        SplittableRandom r = new SplittableRandom(seed);
        int headDim = 16, kvStride = kvHeads * headDim;
        float[] q = KernelTestSupport.uniform(r, heads * headDim, -20, 20); // large scores: no other position may leak in
        float[] keys = KernelTestSupport.uniform(r, (pos + 1) * kvStride, -2, 2);
        float[] values = KernelTestSupport.uniform(r, (pos + 1) * kvStride, -1, 1);
        float[] out = new float[heads * headDim];
        Attention.attend(MatMulTest.kernels(kernelName), q, 0, keys, values, pos, heads, kvHeads, headDim, 1, null,
                0.25f, new float[pos + 2], out, 0);
        for (int h = 0; h < heads; h++) {
            int g = h / (heads / kvHeads);
            for (int d = 0; d < headDim; d++) {
                float v = values[pos * kvStride + g * headDim + d];
                assertEquals(v, out[h * headDim + d], "seed=" + seed + " " + kernelName + " head " + h + " dim " + d);
            }
        }
    }

    /** A sink takes probability mass without contributing a value: a dominant sink drives the output to 0. */
    @ParameterizedTest(name = "{0}")
    @MethodSource("dev.qload.core.kernel.ScalarKernelsAgainstDefinitionsTest#bothKernels")
    void dominantSinkAbsorbsTheAttention(Kernels k) {
        int heads = 4, kvHeads = 2, headDim = 8, pos = 6;
        SplittableRandom r = new SplittableRandom(SEED);
        float[] q = KernelTestSupport.uniform(r, heads * headDim, -1, 1);
        float[] keys = KernelTestSupport.uniform(r, (pos + 1) * kvHeads * headDim, -1, 1);
        float[] values = KernelTestSupport.uniform(r, (pos + 1) * kvHeads * headDim, -1, 1);
        float[] sinks = {100f, 100f, 100f, 100f}; // e^(s−100) with |s| ≤ 8·0.35: every p_j ≤ e^−97
        float[] out = new float[heads * headDim];
        Attention.attend(k, q, 0, keys, values, pos, heads, kvHeads, headDim, 0, sinks, 0.35f, new float[pos + 2], out, 0);
        for (int i = 0; i < out.length; i++) assertTrue(Math.abs(out[i]) < 1e-40, k.name() + " out[" + i + "] = " + out[i]);
    }
}
