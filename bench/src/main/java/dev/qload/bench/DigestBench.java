package dev.qload.bench;

import dev.qload.core.integrity.DigestAlgorithm;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import org.apache.commons.codec.digest.Blake3;
import org.bouncycastle.crypto.Digest;
import org.bouncycastle.crypto.digests.Blake3Digest;
import org.bouncycastle.crypto.digests.SHA256Digest;
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
 * one JMH benchmark per implementation available to qload, so that {@link DigestAlgorithm} can use
 * the fastest correct one per algorithm:
 * <ul>
 *   <li>SHA-256: the JDK's {@code MessageDigest} (HotSpot intrinsic: SHA-NI / AVX2 where the CPU has
 *       them) as production calls it (direct-buffer slices) and fed from heap chunks; Bouncy Castle's
 *       pure-Java {@code SHA256Digest};</li>
 *   <li>BLAKE3 (the JDK has none): Bouncy Castle's {@code Blake3Digest} as production calls it, and
 *       Apache Commons Codec's {@code Blake3}.</li>
 * </ul>
 * Every implementation's digest of the data is checked against the production one's in setup (a
 * faster wrong answer is no candidate). GB/s = {@code 268.4 MB / ms per op / 1e6}. Run:
 * {@code java -jar bench/target/benchmarks.jar DigestBench -wi 3 -i 10}; results and the best-of-N
 * figures that settled the choice are in docs/INTEGRITY.md.
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
    /** Heap staging for implementations that take byte[]: the production BLAKE3 size (DigestAlgorithm). */
    static final int CHUNK = 64 << 10;

    @Param({"jdk-sha256-production", "jdk-sha256-heap-chunks", "bc-sha256", "bc-blake3-production", "commons-codec-blake3"})
    public String impl;

    private Arena arena;
    private MemorySegment data;
    private byte[] staging;

    @Setup(Level.Trial)
    public void setUp() throws Exception {
        arena = Arena.ofShared();
        data = arena.allocate(BYTES, 64);
        SplittableRandom random = new SplittableRandom(42);
        for (long i = 0; i < BYTES; i += 8) data.set(ValueLayout.JAVA_LONG_UNALIGNED, i, random.nextLong());
        staging = new byte[CHUNK];
        String expected = (impl.contains("sha256") ? DigestAlgorithm.SHA256 : DigestAlgorithm.BLAKE3).digest(data);
        String actual = HexFormat.of().formatHex(digest());
        if (!expected.equals(actual)) throw new IllegalStateException(impl + " disagrees with production: " + actual + " vs " + expected);
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        arena.close();
    }

    @Benchmark
    public byte[] digest() throws NoSuchAlgorithmException {
        return switch (impl) {
            case "jdk-sha256-production" -> HexFormat.of().parseHex(DigestAlgorithm.SHA256.digest(data));
            case "jdk-sha256-heap-chunks" -> {
                MessageDigest md = MessageDigest.getInstance("SHA-256");
                for (long at = 0; at < BYTES; at += CHUNK) {
                    int n = (int) Math.min(CHUNK, BYTES - at);
                    MemorySegment.copy(data, ValueLayout.JAVA_BYTE, at, staging, 0, n);
                    md.update(staging, 0, n);
                }
                yield md.digest();
            }
            case "bc-sha256" -> chunked(new SHA256Digest());
            case "bc-blake3-production" -> HexFormat.of().parseHex(DigestAlgorithm.BLAKE3.digest(data));
            case "commons-codec-blake3" -> {
                Blake3 b = Blake3.initHash();
                for (long at = 0; at < BYTES; at += CHUNK) {
                    int n = (int) Math.min(CHUNK, BYTES - at);
                    MemorySegment.copy(data, ValueLayout.JAVA_BYTE, at, staging, 0, n);
                    b.update(staging, 0, n);
                }
                yield b.doFinalize(32);
            }
            default -> throw new IllegalArgumentException(impl);
        };
    }

    private byte[] chunked(Digest d) {
        for (long at = 0; at < BYTES; at += CHUNK) {
            int n = (int) Math.min(CHUNK, BYTES - at);
            MemorySegment.copy(data, ValueLayout.JAVA_BYTE, at, staging, 0, n);
            d.update(staging, 0, n);
        }
        byte[] out = new byte[d.getDigestSize()];
        d.doFinal(out, 0);
        return out;
    }
}
