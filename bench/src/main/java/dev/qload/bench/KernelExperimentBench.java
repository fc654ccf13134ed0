package dev.qload.bench;

import dev.qload.core.kernel.Kernels;
import dev.qload.core.tensor.DType;
import java.lang.foreign.MemorySegment;
import java.nio.ByteOrder;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.ShortVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorShape;
import jdk.incubator.vector.VectorSpecies;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * Not part of the standard run (bench/run.sh leaves it out): the experiment behind the
 * mat-vec findings in bench/README.md. Same pool rotation as {@link MatVecBench}, BF16 only, and
 * three row kernels, each on 1 or 2 threads of a dedicated executor (not the common pool):
 * <ul>
 *   <li>{@code qload}: {@code Kernels.get().dot} per row — what {@code MatMul.linear} does;</li>
 *   <li>{@code rows4}: four rows per pass sharing each load of x, one accumulator per row, BF16
 *       widened as qload does (256-bit short load, {@code convertShape} S2I, shift);</li>
 *   <li>{@code rows4pair}: four rows per pass, BF16 widened without a lane conversion: a 512-bit
 *       int load holds 32 BF16 values; {@code << 16} gives the even ones and {@code & 0xFFFF0000}
 *       the odd ones as floats, multiplied by x split once per call into its even and odd elements.</li>
 * </ul>
 * Results are checked against the scalar reference at setup.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = {"--add-modules=jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED",
        "--sun-misc-unsafe-memory-access=allow"})
public class KernelExperimentBench {
    private static final VectorSpecies<Float> F = FloatVector.SPECIES_PREFERRED;
    private static final VectorSpecies<Integer> I = VectorSpecies.of(int.class, F.vectorShape());
    private static final VectorSpecies<Short> S = VectorSpecies.of(short.class, VectorShape.forBitSize(F.vectorBitSize() / 2));
    private static final int L = F.length();
    private static final ByteOrder LE = ByteOrder.LITTLE_ENDIAN;

    @Param({"4096x4096", "11008x4096"})
    public String shape;

    @Param({"qload", "rows4", "rows4pair"})
    public String kernel;

    @Param({"1", "2"})
    public int threads;

    @Param({"1024"})
    public int poolMiB;

    WeightPool pool;
    float[] x, xEven, xOdd, y;
    ExecutorService helper;

    @Setup(Level.Trial)
    public void setUp() throws Exception {
        int[] rc = WeightPool.parseShape(shape);
        if (rc[1] % (2 * L) != 0) throw new IllegalArgumentException("cols must be a multiple of " + 2 * L);
        pool = new WeightPool(rc[0], rc[1], (long) poolMiB << 20, true);
        x = new float[rc[1]];
        java.util.SplittableRandom r = new java.util.SplittableRandom(1);
        for (int i = 0; i < x.length; i++) x[i] = (float) r.nextGaussian();
        xEven = new float[rc[1] / 2];
        xOdd = new float[rc[1] / 2];
        y = new float[rc[0]];
        helper = Executors.newSingleThreadExecutor(t -> {
            Thread th = new Thread(t, "matvec-helper");
            th.setDaemon(true);
            return th;
        });
        // Check against the scalar reference once.
        float[] expected = new float[rc[0]];
        MemorySegment w = pool.matrices[0].data();
        for (int row = 0; row < rc[0]; row++) expected[row] = Kernels.scalar().dot(w, DType.BF16, (long) row * rc[1], x, 0, rc[1]);
        run(w);
        for (int row = 0; row < rc[0]; row++) {
            if (Math.abs(expected[row] - y[row]) > 1e-3f * (1 + Math.abs(expected[row]))) {
                throw new IllegalStateException(kernel + " row " + row + ": " + y[row] + " != " + expected[row]);
            }
        }
    }

    @Benchmark
    public float[] matvec() throws Exception {
        run(pool.matrices[pool.nextIndex()].data());
        return y;
    }

    private void run(MemorySegment w) throws InterruptedException, ExecutionException {
        int rows = pool.rows, cols = pool.cols;
        if (kernel.equals("rows4pair")) splitEvenOdd(x, xEven, xOdd);
        if (threads == 1) {
            rows(w, cols, 0, rows);
            return;
        }
        int mid = (rows / 2) & ~3;
        Future<?> second = helper.submit(() -> rows(w, cols, mid, rows));
        rows(w, cols, 0, mid);
        second.get();
    }

    private void rows(MemorySegment w, int cols, int from, int to) {
        switch (kernel) {
            case "qload" -> {
                Kernels k = Kernels.get();
                for (int r = from; r < to; r++) y[r] = k.dot(w, DType.BF16, (long) r * cols, x, 0, cols);
            }
            case "rows4" -> rows4(w, cols, x, y, from, to);
            case "rows4pair" -> rows4pair(w, cols, xEven, xOdd, y, from, to);
            default -> throw new IllegalArgumentException(kernel);
        }
    }

    private static FloatVector widen(MemorySegment w, long byteOffset) {
        return ((IntVector) ShortVector.fromMemorySegment(S, w, byteOffset, LE).convertShape(VectorOperators.S2I, I, 0))
                .lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats();
    }

    static void rows4(MemorySegment w, int cols, float[] x, float[] y, int from, int to) {
        long rowBytes = 2L * cols;
        int r = from;
        for (; r + 4 <= to; r += 4) {
            long b0 = r * rowBytes, b1 = b0 + rowBytes, b2 = b1 + rowBytes, b3 = b2 + rowBytes;
            FloatVector a0 = FloatVector.zero(F), a1 = FloatVector.zero(F), a2 = FloatVector.zero(F), a3 = FloatVector.zero(F);
            for (int k = 0; k < cols; k += L) {
                FloatVector xv = FloatVector.fromArray(F, x, k);
                long o = 2L * k;
                a0 = widen(w, b0 + o).fma(xv, a0);
                a1 = widen(w, b1 + o).fma(xv, a1);
                a2 = widen(w, b2 + o).fma(xv, a2);
                a3 = widen(w, b3 + o).fma(xv, a3);
            }
            y[r] = a0.reduceLanes(VectorOperators.ADD);
            y[r + 1] = a1.reduceLanes(VectorOperators.ADD);
            y[r + 2] = a2.reduceLanes(VectorOperators.ADD);
            y[r + 3] = a3.reduceLanes(VectorOperators.ADD);
        }
        for (; r < to; r++) y[r] = Kernels.get().dot(w, DType.BF16, (long) r * cols, x, 0, cols);
    }

    /** xEven[i] = x[2i], xOdd[i] = x[2i+1]: done once per call, reused by every row. */
    static void splitEvenOdd(float[] x, float[] xEven, float[] xOdd) {
        for (int i = 0; i < xEven.length; i++) {
            xEven[i] = x[2 * i];
            xOdd[i] = x[2 * i + 1];
        }
    }

    static void rows4pair(MemorySegment w, int cols, float[] xEven, float[] xOdd, float[] y, int from, int to) {
        long rowBytes = 2L * cols;
        int r = from;
        for (; r + 4 <= to; r += 4) {
            long b0 = r * rowBytes, b1 = b0 + rowBytes, b2 = b1 + rowBytes, b3 = b2 + rowBytes;
            FloatVector a0 = FloatVector.zero(F), a1 = FloatVector.zero(F), a2 = FloatVector.zero(F), a3 = FloatVector.zero(F);
            // One int lane = two BF16 values: element 2i in the low half, 2i+1 in the high half.
            for (int k = 0; k < cols; k += 2 * L) {
                int h = k / 2;
                FloatVector xe = FloatVector.fromArray(F, xEven, h), xo = FloatVector.fromArray(F, xOdd, h);
                long o = 2L * k;
                IntVector v0 = IntVector.fromMemorySegment(I, w, b0 + o, LE), v1 = IntVector.fromMemorySegment(I, w, b1 + o, LE);
                IntVector v2 = IntVector.fromMemorySegment(I, w, b2 + o, LE), v3 = IntVector.fromMemorySegment(I, w, b3 + o, LE);
                a0 = v0.lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats().fma(xe, a0);
                a0 = v0.and(0xFFFF0000).reinterpretAsFloats().fma(xo, a0);
                a1 = v1.lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats().fma(xe, a1);
                a1 = v1.and(0xFFFF0000).reinterpretAsFloats().fma(xo, a1);
                a2 = v2.lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats().fma(xe, a2);
                a2 = v2.and(0xFFFF0000).reinterpretAsFloats().fma(xo, a2);
                a3 = v3.lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats().fma(xe, a3);
                a3 = v3.and(0xFFFF0000).reinterpretAsFloats().fma(xo, a3);
            }
            y[r] = a0.reduceLanes(VectorOperators.ADD);
            y[r + 1] = a1.reduceLanes(VectorOperators.ADD);
            y[r + 2] = a2.reduceLanes(VectorOperators.ADD);
            y[r + 3] = a3.reduceLanes(VectorOperators.ADD);
        }
        for (; r < to; r++) {
            FloatVector a = FloatVector.zero(F);
            for (int k = 0; k < cols; k += 2 * L) {
                IntVector v = IntVector.fromMemorySegment(I, w, r * rowBytes + 2L * k, LE);
                a = v.lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats().fma(FloatVector.fromArray(F, xEven, k / 2), a);
                a = v.and(0xFFFF0000).reinterpretAsFloats().fma(FloatVector.fromArray(F, xOdd, k / 2), a);
            }
            y[r] = a.reduceLanes(VectorOperators.ADD);
        }
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        helper.shutdownNow();
        pool.close();
    }
}
