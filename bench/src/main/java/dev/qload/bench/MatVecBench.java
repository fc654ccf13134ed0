package dev.qload.bench;

import dev.qload.core.kernel.Kernels;
import dev.qload.core.kernel.MatMul;
import java.lang.foreign.MemorySegment;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ForkJoinPool;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.AuxCounters;
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
 * One-token BF16 matrix–vector product {@code y = W x}, {@code W [rows × cols]}, through qload's
 * {@link MatMul#linear} exactly as the decoder calls it (one token, no bias), with the SIMD kernels
 * ({@link Kernels#get()}) or the scalar reference ({@link Kernels#scalar()}), set against the
 * memory bandwidth of a plain {@link MemorySegment#copy} of the same number of bytes, measured in
 * the same JVM in alternation with it.
 *
 * <p>Every call reads (and every copy reads and writes) a different matrix of a
 * {@link WeightPool} larger than the caches (1 GiB by default; this machine reports a 480 MiB L3),
 * so both stream from memory. One operation is {@value #BLOCK} mat-vecs followed by
 * {@value #BLOCK} copies, each block timed on its own into {@link Counters}: on a shared machine
 * whose load drifts by the second, the two figures are taken under the same conditions, which two
 * separate benchmarks minutes apart are not. (JMH's primary score, ms per block pair, is not the
 * figure to read; {@link Summary} computes GB/s from the counters.)
 *
 * <p>{@code MatMul} splits rows over the common fork-join pool, which has {@code cores − 1}
 * workers and runs everything on the calling thread when that is ≤ 1: on a 2-core machine it is
 * single-threaded, and so is the copy here. {@link MatVecParallelBench} sets the pool to 2 and
 * copies on two threads.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 2)
@Fork(value = 1, jvmArgsAppend = {"--add-modules=jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED",
        "--sun-misc-unsafe-memory-access=allow"})
public class MatVecBench {
    /** Mat-vecs (then copies) per block. */
    static final int BLOCK = 4;

    /** Hidden 4096: a square projection (q/o of a 7B Llama) and an MLP up/gate one. */
    @Param({"4096x4096", "11008x4096"})
    public String shape;

    @Param({"vector", "scalar"})
    public String kernels;

    /** Size of each rotation of weight copies (the copy has a source and a destination pool of this size). */
    @Param({"1024"})
    public int poolMiB;

    /** Time spent in each block kind; {@link Summary} divides bytes by it. Reset every iteration. */
    @State(Scope.Thread)
    @AuxCounters(AuxCounters.Type.EVENTS)
    public static class Counters {
        public long matvecNanos, matvecCalls, copyNanos, copyCalls;

        @Setup(Level.Iteration)
        public void reset() {
            matvecNanos = matvecCalls = copyNanos = copyCalls = 0;
        }
    }

    WeightPool weights, copyDestination;
    Kernels k;
    float[] x, y;
    int copyThreads = 1;
    ExecutorService helper;

    Kernels kernels() {
        return switch (kernels) {
            case "vector" -> Kernels.get();
            case "scalar" -> Kernels.scalar();
            default -> throw new IllegalArgumentException("kernels must be vector or scalar, not " + kernels);
        };
    }

    @Setup(Level.Trial)
    public void setUp() {
        int[] rc = WeightPool.parseShape(shape);
        k = kernels();
        if (kernels.equals("vector") && !k.name().startsWith("vector")) {
            throw new IllegalStateException("SIMD kernels asked for, but Kernels.get() is " + k.name() + ": run with --add-modules jdk.incubator.vector");
        }
        weights = new WeightPool(rc[0], rc[1], (long) poolMiB << 20, true);
        copyDestination = new WeightPool(rc[0], rc[1], (long) poolMiB << 20, false);
        x = new float[rc[1]];
        y = new float[rc[0]];
        java.util.SplittableRandom r = new java.util.SplittableRandom(1);
        for (int i = 0; i < x.length; i++) x[i] = (float) r.nextGaussian();
        helper = Executors.newSingleThreadExecutor(t -> {
            Thread th = new Thread(t, "copy-helper");
            th.setDaemon(true);
            return th;
        });
        System.out.printf("%n[matvec] %s kernels=%s, %d copies of %.1f MiB = %.0f MiB (+ as much for the copy's destination); common-pool parallelism %d, copy threads %d%n",
                shape, k.name(), weights.size(), weights.bytesPerMatrix / 1048576.0, weights.totalBytes() / 1048576.0,
                ForkJoinPool.getCommonPoolParallelism(), copyThreads);
    }

    @Benchmark
    public float[] matvecThenCopy(Counters c) throws InterruptedException, ExecutionException {
        long t0 = System.nanoTime();
        for (int i = 0; i < BLOCK; i++) MatMul.linear(k, weights.matrices[weights.nextIndex()], null, x, 1, y);
        long t1 = System.nanoTime();
        for (int i = 0; i < BLOCK; i++) copy(weights.matrices[weights.nextIndex()].data(), copyDestination.matrices[copyDestination.nextIndex()].data());
        long t2 = System.nanoTime();
        c.matvecNanos += t1 - t0;
        c.copyNanos += t2 - t1;
        c.matvecCalls += BLOCK;
        c.copyCalls += BLOCK;
        return y;
    }

    private void copy(MemorySegment from, MemorySegment to) throws InterruptedException, ExecutionException {
        long bytes = weights.bytesPerMatrix;
        if (copyThreads == 1) {
            MemorySegment.copy(from, 0, to, 0, bytes);
            return;
        }
        long half = (bytes / 2) & ~63L;
        Future<?> second = helper.submit(() -> MemorySegment.copy(from, half, to, half, bytes - half));
        MemorySegment.copy(from, 0, to, 0, half);
        second.get();
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        helper.shutdownNow();
        weights.close();
        copyDestination.close();
    }
}
