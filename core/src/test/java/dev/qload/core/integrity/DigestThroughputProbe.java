package dev.qload.core.integrity;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.Locale;
import java.util.SplittableRandom;
import org.bouncycastle.crypto.Digest;
import org.bouncycastle.crypto.digests.Blake3Digest;
import org.bouncycastle.crypto.digests.SHA256Digest;

/**
 * Single-thread digest throughput over an off-heap segment, the way the loader hashes a mapped file:
 * the JDK's SHA-256 (intrinsified: SHA-NI or AVX2 where the CPU has them), Bouncy Castle's
 * SHA-256 and BLAKE3, and the production path ({@link DigestAlgorithm#digest}). Not a test and not
 * JMH: run it by hand, on an idle machine, and read the best of several rounds.
 *
 * <pre>
 * cd core && mvn -q -o test-compile dependency:build-classpath -Dmdep.outputFile=target/cp.txt
 * java -cp target/classes:target/test-classes:$(cat target/cp.txt) dev.qload.core.integrity.DigestThroughputProbe [MiB] [rounds]
 * </pre>
 */
public final class DigestThroughputProbe {
    private DigestThroughputProbe() {}

    interface Hasher {
        byte[] hash(MemorySegment data) throws Exception;
    }

    public static void main(String[] args) throws Exception {
        long mib = args.length > 0 ? Long.parseLong(args[0]) : 512;
        int rounds = args.length > 1 ? Integer.parseInt(args[1]) : 5;
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment data = arena.allocate(mib << 20, 64);
            SplittableRandom random = new SplittableRandom(42);
            for (long i = 0; i < data.byteSize(); i += 8) data.set(ValueLayout.JAVA_LONG_UNALIGNED, i, random.nextLong());

            System.out.printf(Locale.ROOT, "%s %s, %s, %d MiB, best of %d rounds, one thread%n", System.getProperty("java.vm.name"),
                    System.getProperty("java.vm.version"), System.getProperty("os.arch"), mib, rounds);
            measure("production DigestAlgorithm.SHA256", rounds, data, d -> HexFormat.of().parseHex(DigestAlgorithm.SHA256.digest(d)));
            measure("production DigestAlgorithm.BLAKE3", rounds, data, d -> HexFormat.of().parseHex(DigestAlgorithm.BLAKE3.digest(d)));
            measure("JDK SHA-256, 1 MiB heap chunks", rounds, data, d -> chunked(d, MessageDigest.getInstance("SHA-256"), 1 << 20));
            measure("JDK SHA-256, 64 KiB heap chunks", rounds, data, d -> chunked(d, MessageDigest.getInstance("SHA-256"), 64 << 10));
            measure("JDK SHA-256, 16 KiB heap chunks", rounds, data, d -> chunked(d, MessageDigest.getInstance("SHA-256"), 16 << 10));
            measure("JDK SHA-256, 4 KiB heap chunks", rounds, data, d -> chunked(d, MessageDigest.getInstance("SHA-256"), 4 << 10));
            measure("JDK SHA-256, update(direct ByteBuffer)", rounds, data, d -> {
                MessageDigest md = MessageDigest.getInstance("SHA-256");
                md.update(d.asByteBuffer());
                return md.digest();
            });
            measure("JDK SHA-256, 1 MiB direct ByteBuffer slices", rounds, data, d -> {
                MessageDigest md = MessageDigest.getInstance("SHA-256");
                for (long at = 0; at < d.byteSize(); at += 1 << 20) md.update(d.asSlice(at, Math.min(1 << 20, d.byteSize() - at)).asByteBuffer());
                return md.digest();
            });
            measure("BC SHA256Digest, 16 KiB heap chunks", rounds, data, d -> chunked(d, new SHA256Digest(), 16 << 10));
            measure("BC Blake3Digest, 16 KiB heap chunks", rounds, data, d -> chunked(d, new Blake3Digest(256), 16 << 10));
            measure("BC SHA256Digest, 1 MiB heap chunks", rounds, data, d -> chunked(d, new SHA256Digest(), 1 << 20));
            measure("BC Blake3Digest, 1 MiB heap chunks", rounds, data, d -> chunked(d, new Blake3Digest(256), 1 << 20));
            measure("BC Blake3Digest, 64 KiB heap chunks", rounds, data, d -> chunked(d, new Blake3Digest(256), 64 << 10));
        }
    }

    private static byte[] chunked(MemorySegment data, MessageDigest md, int chunk) {
        byte[] buffer = new byte[chunk];
        for (long at = 0; at < data.byteSize(); at += chunk) {
            int n = (int) Math.min(chunk, data.byteSize() - at);
            MemorySegment.copy(data, ValueLayout.JAVA_BYTE, at, buffer, 0, n);
            md.update(buffer, 0, n);
        }
        return md.digest();
    }

    private static byte[] chunked(MemorySegment data, Digest digest, int chunk) {
        byte[] buffer = new byte[chunk];
        for (long at = 0; at < data.byteSize(); at += chunk) {
            int n = (int) Math.min(chunk, data.byteSize() - at);
            MemorySegment.copy(data, ValueLayout.JAVA_BYTE, at, buffer, 0, n);
            digest.update(buffer, 0, n);
        }
        byte[] out = new byte[digest.getDigestSize()];
        digest.doFinal(out, 0);
        return out;
    }

    private static void measure(String name, int rounds, MemorySegment data, Hasher hasher) throws Exception {
        byte[] first = hasher.hash(data); // warm-up round, also keeps the result alive
        long best = Long.MAX_VALUE;
        for (int r = 0; r < rounds; r++) {
            long start = System.nanoTime();
            byte[] out = hasher.hash(data);
            best = Math.min(best, System.nanoTime() - start);
            if (!java.util.Arrays.equals(first, out)) throw new AssertionError(name + " is not deterministic");
        }
        System.out.printf(Locale.ROOT, "  %-42s %6.2f GB/s  (%s...)%n", name, data.byteSize() / (double) best, HexFormat.of().formatHex(first, 0, 6));
    }
}
