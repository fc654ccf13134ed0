package dev.qload.core.integrity;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CancellationException;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.BooleanSupplier;
import org.bouncycastle.crypto.digests.Blake3Digest;

/**
 * The digests a checksum manifest may hold, each written as 64 lower-case hex digits of a 32-byte
 * output, and the fastest correct implementation of each.
 *
 * <p>Measured with {@code DigestThroughputProbe 512 7} (core/src/test/java/dev/qload/core/integrity;
 * the command is in its comment): one thread over a 512 MiB off-heap segment, best of 7 rounds,
 * Temurin 25.0.3, a 2-vCPU Xeon VM with SHA-NI, three runs. The JDK's SHA-256 1.72-1.80 GB/s
 * (HotSpot intrinsifies it, {@code UseSHA256Intrinsics}), Bouncy Castle's {@code SHA256Digest}
 * 0.29-0.30 GB/s, Bouncy Castle's {@code Blake3Digest} 0.55-0.59 GB/s. So SHA-256 is the JDK's,
 * BLAKE3 is Bouncy Castle's (the JDK has none), and a load checks SHA-256 when an expected digest
 * has both. Bouncy Castle hashes BLAKE3 on one thread, without the tree parallelism the algorithm
 * allows.
 */
public enum DigestAlgorithm {
    /** FIPS 180-4 SHA-256: what the Hugging Face Hub's LFS object id of a file is. */
    SHA256("sha256"),
    /** BLAKE3 (github.com/BLAKE3-team/BLAKE3-specs), unkeyed, default 32-byte output. */
    BLAKE3("blake3");

    /** By measured single-thread throughput, see the class comment. */
    public static final List<DigestAlgorithm> FASTEST_FIRST = List.of(SHA256, BLAKE3);

    /** Bytes handed to one update: cancellation is polled this often. */
    static final int CHUNK = 1 << 20;
    /** BLAKE3's heap staging buffer: the size made no measurable difference (0.57-0.59 GB/s from 16 KiB to 1 MiB). */
    private static final int BLAKE3_STAGING = 64 << 10;

    private static final AtomicLong HASHED = new AtomicLong();

    private final String key;

    DigestAlgorithm(String key) {
        this.key = key;
    }

    /** The name in manifests, options and reports: {@code sha256}, {@code blake3}. */
    public String key() {
        return key;
    }

    public static Optional<DigestAlgorithm> forKey(String key) {
        for (DigestAlgorithm a : values()) if (a.key.equals(key)) return Optional.of(a);
        return Optional.empty();
    }

    public String digest(byte[] bytes) {
        return digest(MemorySegment.ofArray(bytes));
    }

    public String digest(MemorySegment bytes) {
        return digest(bytes, () -> false);
    }

    /**
     * The digest of every byte of {@code bytes} (a mapped file, typically), read once, front to
     * back. {@code cancelled} is polled between chunks: when it turns true the hashing stops with a
     * {@link CancellationException}, so a failed load need not wait for a large file.
     */
    public String digest(MemorySegment bytes, BooleanSupplier cancelled) {
        long size = bytes.byteSize();
        HASHED.addAndGet(size);
        byte[] out = switch (this) {
            case SHA256 -> {
                // update(ByteBuffer) on a direct buffer stages 4 KiB at a time through an L1-resident array inside
                // the JDK: as fast as our own 4 KiB heap copies (1.80 GB/s), faster than 64 KiB-1 MiB ones (1.50-1.64).
                MessageDigest md = sha256();
                for (long at = 0; at < size; at += CHUNK) {
                    if (cancelled.getAsBoolean()) throw new CancellationException("hashing cancelled");
                    md.update(bytes.asSlice(at, Math.min(CHUNK, size - at)).asByteBuffer());
                }
                yield md.digest();
            }
            case BLAKE3 -> {
                Blake3Digest d = new Blake3Digest(256);
                byte[] staging = new byte[(int) Math.min(BLAKE3_STAGING, size)];
                for (long at = 0; at < size; at += staging.length) {
                    if (cancelled.getAsBoolean()) throw new CancellationException("hashing cancelled");
                    int n = (int) Math.min(staging.length, size - at);
                    MemorySegment.copy(bytes, ValueLayout.JAVA_BYTE, at, staging, 0, n);
                    d.update(staging, 0, n);
                }
                byte[] digest = new byte[32];
                d.doFinal(digest, 0);
                yield digest;
            }
        };
        return HexFormat.of().formatHex(out);
    }

    /** Bytes ever handed to a digest in this process: a test takes the difference around an operation. */
    public static long bytesHashed() {
        return HASHED.get();
    }

    private static MessageDigest sha256() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("every Java platform provides SHA-256", e);
        }
    }
}
