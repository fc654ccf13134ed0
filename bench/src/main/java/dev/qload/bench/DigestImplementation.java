package dev.qload.bench;

import dev.qload.core.integrity.DigestAlgorithm;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import org.apache.commons.codec.digest.Blake3;
import org.bouncycastle.crypto.Digest;
import org.bouncycastle.crypto.digests.Blake3Digest;
import org.bouncycastle.crypto.digests.SHA256Digest;

/**
 * Every SHA-256 and BLAKE3 implementation available to qload, as the loader would use it on a mapped
 * file (an off-heap segment). Those that take {@code byte[]} are fed through a heap staging buffer of
 * {@code chunk} bytes. {@link #PRODUCTION_SHA256} and {@link #PRODUCTION_BLAKE3} are qload's own
 * {@link DigestAlgorithm}.
 */
public enum DigestImplementation {
    PRODUCTION_SHA256(DigestAlgorithm.SHA256, 0),
    JDK_SHA256_HEAP_4K(DigestAlgorithm.SHA256, 4 << 10),
    JDK_SHA256_HEAP_64K(DigestAlgorithm.SHA256, 64 << 10),
    JDK_SHA256_HEAP_256K(DigestAlgorithm.SHA256, 256 << 10),
    BC_SHA256_HEAP_16K(DigestAlgorithm.SHA256, 16 << 10),
    PRODUCTION_BLAKE3(DigestAlgorithm.BLAKE3, 0),
    BC_BLAKE3_HEAP_16K(DigestAlgorithm.BLAKE3, 16 << 10),
    COMMONS_CODEC_BLAKE3_HEAP_64K(DigestAlgorithm.BLAKE3, 64 << 10);

    final DigestAlgorithm algorithm;
    private final int chunk;

    DigestImplementation(DigestAlgorithm algorithm, int chunk) {
        this.algorithm = algorithm;
        this.chunk = chunk;
    }

    /** The 32-byte digest of every byte of {@code data}. */
    byte[] digest(MemorySegment data) throws NoSuchAlgorithmException {
        return switch (this) {
            case PRODUCTION_SHA256, PRODUCTION_BLAKE3 -> HexFormat.of().parseHex(algorithm.digest(data));
            case JDK_SHA256_HEAP_4K, JDK_SHA256_HEAP_64K, JDK_SHA256_HEAP_256K -> {
                MessageDigest md = MessageDigest.getInstance("SHA-256");
                staged(data, (buffer, n) -> md.update(buffer, 0, n));
                yield md.digest();
            }
            case BC_SHA256_HEAP_16K -> bouncyCastle(data, new SHA256Digest());
            case BC_BLAKE3_HEAP_16K -> bouncyCastle(data, new Blake3Digest(256));
            case COMMONS_CODEC_BLAKE3_HEAP_64K -> {
                Blake3 b = Blake3.initHash();
                staged(data, (buffer, n) -> b.update(buffer, 0, n));
                yield b.doFinalize(32);
            }
        };
    }

    private interface Sink {
        void accept(byte[] buffer, int n);
    }

    private void staged(MemorySegment data, Sink sink) {
        byte[] buffer = new byte[chunk];
        for (long at = 0; at < data.byteSize(); at += chunk) {
            int n = (int) Math.min(chunk, data.byteSize() - at);
            MemorySegment.copy(data, ValueLayout.JAVA_BYTE, at, buffer, 0, n);
            sink.accept(buffer, n);
        }
    }

    private byte[] bouncyCastle(MemorySegment data, Digest d) {
        staged(data, (buffer, n) -> d.update(buffer, 0, n));
        byte[] out = new byte[d.getDigestSize()];
        d.doFinal(out, 0);
        return out;
    }
}
