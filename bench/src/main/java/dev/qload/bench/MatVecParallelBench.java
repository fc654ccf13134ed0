package dev.qload.bench;

import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
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
 * {@link MatVecBench} with the SIMD kernels, the common fork-join pool at parallelism 2
 * ({@code -Djava.util.concurrent.ForkJoinPool.common.parallelism=2}, so that {@code MatMul} really
 * splits rows over two workers on a 2-core machine) and the copy split in two halves on two threads.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 2)
@Fork(value = 1, jvmArgsAppend = {"--add-modules=jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED",
        "--sun-misc-unsafe-memory-access=allow", "-Djava.util.concurrent.ForkJoinPool.common.parallelism=2"})
public class MatVecParallelBench {
    @Param({"4096x4096", "11008x4096"})
    public String shape;

    @Param({"1024"})
    public int poolMiB;

    private final MatVecBench delegate = new MatVecBench();

    @Setup(Level.Trial)
    public void setUp() {
        delegate.shape = shape;
        delegate.kernels = "vector";
        delegate.poolMiB = poolMiB;
        delegate.copyThreads = 2;
        delegate.setUp();
    }

    @Benchmark
    public float[] matvecThenCopy(MatVecBench.Counters c) throws InterruptedException, ExecutionException {
        return delegate.matvecThenCopy(c);
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        delegate.tearDown();
    }
}
