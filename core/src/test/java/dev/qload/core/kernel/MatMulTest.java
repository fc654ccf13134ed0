package dev.qload.core.kernel;

import static dev.qload.core.kernel.KernelTestSupport.U;
import static dev.qload.core.kernel.KernelTestSupport.assertClose;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.qload.core.tensor.DType;
import dev.qload.core.tensor.Shape;
import dev.qload.core.tensor.Tensor;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ForkJoinPool;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicIntegerArray;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/** {@code MatMul.linear} (x·Wᵀ + b) against a naive double loop, and its row split against itself. */
class MatMulTest {
    private static final long SEED = 0x3A7_3A7L;
    private static final int[][] SHAPES = {{1, 1}, {7, 33}, {257, 31}, {64, 4097}, {1000, 64}}; // out × in
    /** Statistical F32 sum bound, as in VectorMatchesScalarTest. */
    private static final double SUM_SLACK = 4;

    static Kernels kernels(String name) {
        return name.equals("scalar") ? Kernels.scalar() : KernelSelection.vector();
    }

    static Stream<Arguments> cases() {
        Stream.Builder<Arguments> b = Stream.builder();
        for (int[] shape : SHAPES)
            for (int tokens : new int[] {1, 3})
                for (boolean bias : new boolean[] {false, true})
                    for (DType dtype : new DType[] {DType.F32, DType.BF16, DType.F16})
                        for (String kernels : new String[] {"scalar", "vector"})
                            b.add(Arguments.of(shape[0], shape[1], tokens, bias, dtype, kernels));
        return b.build();
    }

    private static long seed(int out, int in, int tokens, boolean bias, DType dtype) {
        return SEED + 1_000_003L * out + 10_007L * in + 101L * tokens + (bias ? 7 : 0) + dtype.ordinal();
    }

    static Tensor weights(SplittableRandom r, DType dtype, int out, int in) {
        Tensor w = Tensor.allocate(Shape.of(out, in), dtype, java.lang.foreign.Arena.ofAuto());
        for (long i = 0; i < (long) out * in; i++) w.setFloat(i, (float) r.nextDouble(-1, 1));
        return w;
    }

    @ParameterizedTest(name = "{0}x{1} tokens={2} bias={3} {4} {5}")
    @MethodSource("cases")
    void linearMatchesNaiveDoubleLoop(int out, int in, int tokens, boolean withBias, DType dtype, String kernelName) {
        long seed = seed(out, in, tokens, withBias, dtype);
        SplittableRandom r = new SplittableRandom(seed);
        Tensor w = weights(r, dtype, out, in);
        float[] x = KernelTestSupport.uniform(r, tokens * in, -1, 1);
        float[] bias = withBias ? KernelTestSupport.uniform(r, out, -1, 1) : null;
        float[] y = new float[tokens * out];
        Arrays.fill(y, Float.NaN); // every element must be written
        MatMul.linear(kernels(kernelName), w, bias, x, tokens, y);
        for (int t = 0; t < tokens; t++) {
            for (int o = 0; o < out; o++) {
                double sum = 0, sumAbs = 0;
                for (int i = 0; i < in; i++) {
                    double p = (double) w.getFloat((long) o * in + i) * x[t * in + i];
                    sum += p;
                    sumAbs += Math.abs(p);
                }
                double b = withBias ? bias[o] : 0;
                // the F32 row sum (√in statistical bound) plus the rounding of + b
                double tol = (SUM_SLACK * Math.sqrt(in) + 2) * U * (sumAbs + Math.abs(b));
                assertClose(sum + b, y[t * out + o], tol,
                        "seed=" + seed + " " + kernelName + " " + dtype + " token " + t + " row " + o);
            }
        }
    }

    /**
     * Each output row is one dot product whatever the split, so the full call must equal, bit for
     * bit, a call per row (a weight view of one row, its bias alone). With more than ROW_GRAIN rows
     * and more than one pool thread, the full call runs on several threads.
     */
    @ParameterizedTest(name = "{0}x{1} tokens={2} bias={3} {4} {5}")
    @MethodSource("cases")
    void fullCallEqualsOneRowAtATime(int out, int in, int tokens, boolean withBias, DType dtype, String kernelName) {
        long seed = seed(out, in, tokens, withBias, dtype) + 1;
        SplittableRandom r = new SplittableRandom(seed);
        Tensor w = weights(r, dtype, out, in);
        float[] x = KernelTestSupport.uniform(r, tokens * in, -1, 1);
        float[] bias = withBias ? KernelTestSupport.uniform(r, out, -1, 1) : null;
        assertEquals(0, rowByRowMismatches(kernels(kernelName), w, bias, x, tokens),
                "seed=" + seed + " " + kernelName + " " + dtype + ": rows differing from the one-row calls");
    }

    /** The number of outputs where the full call differs from (or is not repeatable against) one call per row. */
    static int rowByRowMismatches(Kernels k, Tensor w, float[] bias, float[] x, int tokens) {
        int out = Math.toIntExact(w.shape().dim(0));
        float[] full = new float[tokens * out], again = new float[tokens * out];
        MatMul.linear(k, w, bias, x, tokens, full);
        MatMul.linear(k, w, bias, x, tokens, again);
        int mismatches = 0;
        float[] one = new float[tokens];
        for (int o = 0; o < out; o++) {
            MatMul.linear(k, w.narrow(o, 1), bias == null ? null : new float[] {bias[o]}, x, tokens, one);
            for (int t = 0; t < tokens; t++) {
                int fullBits = Float.floatToRawIntBits(full[t * out + o]);
                if (fullBits != Float.floatToRawIntBits(one[t])) mismatches++;
                if (fullBits != Float.floatToRawIntBits(again[t * out + o])) mismatches++;
            }
        }
        return mismatches;
    }

    @Test
    void parallelForRangeCoversEveryIndexExactlyOnceInChunksOfAtMostGrain() {
        boolean inline = Runtime.getRuntime().availableProcessors() <= 1; // Parallel splits whenever there are two cores
        for (int count : new int[] {0, 1, 31, 32, 33, 257, 1000}) {
            for (int grain : new int[] {1, 7, 32}) {
                AtomicIntegerArray hits = new AtomicIntegerArray(count);
                List<int[]> chunks = Collections.synchronizedList(new ArrayList<>());
                Parallel.forRange(count, grain, (from, to) -> {
                    chunks.add(new int[] {from, to});
                    for (int i = from; i < to; i++) hits.incrementAndGet(i);
                });
                String where = "count " + count + " grain " + grain;
                for (int i = 0; i < count; i++) assertEquals(1, hits.get(i), where + " index " + i);
                if (count <= grain || inline) {
                    assertEquals(1, chunks.size(), where + ": small work stays on the caller in one piece");
                } else {
                    for (int[] c : chunks) assertTrue(c[1] > c[0] && c[1] - c[0] <= grain, where + ": chunk " + Arrays.toString(c));
                }
            }
        }
    }

    /**
     * This machine may have two cores (then the split uses the caller and one common-pool worker), so the
     * split is also checked in a child JVM with a common pool of 4: it must really use several
     * threads, cover every index once in chunks of at most the grain, and still match the one-row
     * calls bit for bit.
     */
    @Test
    void multiThreadedSplitEqualsOneRowAtATimeWithAFourThreadPool() throws Exception {
        String output = KernelTestSupport.runChildJvm(ForcedParallelism.class,
                "--add-modules", "jdk.incubator.vector", "-Djava.util.concurrent.ForkJoinPool.common.parallelism=4");
        String line = output.lines().filter(l -> l.startsWith("result ")).findFirst().orElseThrow(() -> new AssertionError(output));
        String[] f = line.split(" ");
        assertEquals("4", f[1], "child pool parallelism: " + output);
        assertTrue(Integer.parseInt(f[2]) > 1, "the child split over only " + f[2] + " thread(s): " + output);
        assertEquals("0", f[3], "mismatching outputs in the child (seed " + ForcedParallelism.SEED + "): " + output);
        assertEquals("0", f[4], "Parallel.forRange in the child ran an index other than once or a chunk over its grain: " + output);
    }

    /** The child: prints "result &lt;parallelism&gt; &lt;threads used&gt; &lt;mismatches&gt; &lt;bad coverage&gt;". */
    static final class ForcedParallelism {
        static final long SEED = 0xF0_4C3DL;

        public static void main(String[] args) {
            Set<Thread> threads = ConcurrentHashMap.newKeySet();
            Parallel.forRange(256, 1, (from, to) -> {
                threads.add(Thread.currentThread());
                long spin = System.nanoTime() + 100_000; // long enough that the other workers steal
                while (System.nanoTime() < spin) Thread.onSpinWait();
            });
            int badCoverage = 0; // indices not run exactly once, or chunks over the grain
            for (int count : new int[] {33, 257, 1000}) {
                for (int grain : new int[] {1, 7, 32}) {
                    AtomicIntegerArray hits = new AtomicIntegerArray(count);
                    AtomicInteger oversized = new AtomicInteger();
                    Parallel.forRange(count, grain, (from, to) -> {
                        if (to - from > grain || to <= from) oversized.incrementAndGet();
                        for (int i = from; i < to; i++) hits.incrementAndGet(i);
                    });
                    for (int i = 0; i < count; i++) if (hits.get(i) != 1) badCoverage++;
                    badCoverage += oversized.get();
                }
            }
            SplittableRandom r = new SplittableRandom(SEED);
            int mismatches = 0;
            for (DType dtype : new DType[] {DType.F32, DType.BF16, DType.F16}) {
                Tensor w = weights(r, dtype, 1000, 64);
                float[] x = KernelTestSupport.uniform(r, 3 * 64, -1, 1), bias = KernelTestSupport.uniform(r, 1000, -1, 1);
                mismatches += rowByRowMismatches(Kernels.scalar(), w, bias, x, 3);
                mismatches += rowByRowMismatches(KernelSelection.vector(), w, bias, x, 3);
            }
            System.out.println("result " + ForkJoinPool.getCommonPoolParallelism() + " " + threads.size() + " " + mismatches + " " + badCoverage);
        }
    }
}
