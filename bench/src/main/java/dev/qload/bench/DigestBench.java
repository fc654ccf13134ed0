package dev.qload.bench;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
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
 * Single-thread digest throughput over an off-heap segment (how the loader hashes a mapped file),
 * one JMH benchmark per {@link DigestImplementation}: the JDK's SHA-256 (HotSpot intrinsic) as
 * production calls it and fed from heap chunks, Bouncy Castle's pure-Java SHA-256, Bouncy Castle's
 * BLAKE3 (production) and Apache Commons Codec's. Each digest is checked against production's in
 * setup (a faster wrong answer is no candidate). GB/s = 268.4 MB / (ms per op × 1e6). Run:
 * {@code java -jar bench/target/benchmarks.jar DigestBench -wi 3 -i 10}. On a shared machine
 * {@link DigestRounds} (best of interleaved rounds) is the steadier figure; both are in
 * docs/INTEGRITY.md.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 2, time = 2)
@Measurement(iterations = 4, time = 2)
@Fork(value = 1, jvmArgsAppend = {"--enable-native-access=ALL-UNNAMED", "--sun-misc-unsafe-memory-access=allow"})
public class DigestBench {
    /** Larger than the last-level cache, like a weight file streaming from the page cache. */
    static final long BYTES = 256L << 20;

    @Param({"PRODUCTION_SHA256", "JDK_SHA256_HEAP_64K", "BC_SHA256_HEAP_16K", "PRODUCTION_BLAKE3", "COMMONS_CODEC_BLAKE3_HEAP_64K"})
    public DigestImplementation impl;

    private Arena arena;
    private MemorySegment data;

    @Setup(Level.Trial)
    public void setUp() throws Exception {
        arena = Arena.ofShared();
        data = DigestRounds.randomData(arena, BYTES);
        DigestRounds.checkAgainstProduction(impl, data);
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        arena.close();
    }

    @Benchmark
    public byte[] digest() throws Exception {
        return impl.digest(data);
    }
}
