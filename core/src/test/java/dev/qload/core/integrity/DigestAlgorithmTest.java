package dev.qload.core.integrity;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.SplittableRandom;
import java.util.concurrent.CancellationException;
import org.bouncycastle.crypto.digests.SHA256Digest;
import org.junit.jupiter.api.Test;

/**
 * Known answers from published vectors, and the chunked segment path against one-shot digests.
 *
 * <p>SHA-256: FIPS 180-2, Appendix B ("abc", the 448-bit two-block message, one million 'a'), and
 * the empty string as NIST's example values list it. The 1024- and 102400-byte BLAKE3 pattern
 * inputs ({@code i % 251}) have no NIST vector; their SHA-256 comes from Python's hashlib
 * (OpenSSL), an implementation independent of the JDK's.
 *
 * <p>BLAKE3: github.com/BLAKE3-team/BLAKE3, test_vectors/test_vectors.json, field {@code hash}, first
 * 32 bytes (the default output), for input lengths 0, 1, 1023, 1024, 1025, 2049, 102400 of the
 * pattern {@code i % 251}. "abc" is not in that file: its value is what the reference {@code b3sum}
 * prints ({@code printf abc | b3sum}).
 */
class DigestAlgorithmTest {
    private static byte[] pattern(int length) {
        byte[] b = new byte[length];
        for (int i = 0; i < length; i++) b[i] = (byte) (i % 251);
        return b;
    }

    private static byte[] ascii(String s) {
        return s.getBytes(StandardCharsets.US_ASCII);
    }

    @Test
    void sha256MatchesFips180Vectors() {
        assertEquals("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855", DigestAlgorithm.SHA256.digest(new byte[0]));
        assertEquals("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad", DigestAlgorithm.SHA256.digest(ascii("abc")));
        assertEquals("248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1",
                DigestAlgorithm.SHA256.digest(ascii("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq")));
        byte[] million = new byte[1_000_000];
        Arrays.fill(million, (byte) 'a');
        assertEquals("cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0", DigestAlgorithm.SHA256.digest(million));
    }

    @Test
    void sha256OfBlake3PatternInputsMatchesAnIndependentImplementation() {
        assertEquals("2bce1ba628720664be4b9fdd77aae0678e5f0f3f02fc6ff641ec879094f6a404", DigestAlgorithm.SHA256.digest(pattern(1024)));
        assertEquals("74588b7f0bcc354ac14d9cf199fa3a20c05f0c7293b9075b2f2e146e718de800", DigestAlgorithm.SHA256.digest(pattern(102400)));
    }

    @Test
    void blake3MatchesTheOfficialTestVectors() {
        assertEquals("af1349b9f5f9a1a6a0404dea36dcc9499bcb25c9adc112b7cc9a93cae41f3262", DigestAlgorithm.BLAKE3.digest(new byte[0]));
        assertEquals("6437b3ac38465133ffb63b75273a8db548c558465d79db03fd359c6cd5bd9d85", DigestAlgorithm.BLAKE3.digest(ascii("abc")));
        assertEquals("2d3adedff11b61f14c886e35afa036736dcd87a74d27b5c1510225d0f592e213", DigestAlgorithm.BLAKE3.digest(pattern(1)));
        assertEquals("10108970eeda3eb932baac1428c7a2163b0e924c9a9e25b35bba72b28f70bd11", DigestAlgorithm.BLAKE3.digest(pattern(1023)));
        assertEquals("42214739f095a406f3fc83deb889744ac00df831c10daa55189b5d121c855af7", DigestAlgorithm.BLAKE3.digest(pattern(1024)));
        assertEquals("d00278ae47eb27b34faecf67b4fe263f82d5412916c1ffd97c8cb7fb814b8444", DigestAlgorithm.BLAKE3.digest(pattern(1025)));
        assertEquals("5f4d72f40d7a5f82b15ca2b2e44b1de3c2ef86c426c95c1af0b6879522563030", DigestAlgorithm.BLAKE3.digest(pattern(2049)));
        // larger than the 64 KiB staging buffer: the chunked path must cross a buffer boundary
        assertEquals("bc3e3d41a1146b069abffad3c0d44860cf664390afce4d9661f7902e7943e085", DigestAlgorithm.BLAKE3.digest(pattern(102400)));
    }

    @Test
    void offHeapSegmentAcrossChunkBoundariesMatchesOneShotDigests() throws Exception {
        int length = 3 * DigestAlgorithm.CHUNK + 12345;
        byte[] bytes = new byte[length];
        new SplittableRandom(7).nextBytes(bytes);
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment offHeap = arena.allocate(length);
            MemorySegment.copy(MemorySegment.ofArray(bytes), 0, offHeap, 0, length);
            String oneShot = HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));
            assertEquals(oneShot, DigestAlgorithm.SHA256.digest(offHeap));
            SHA256Digest bc = new SHA256Digest();
            bc.update(bytes, 0, bytes.length);
            byte[] out = new byte[32];
            bc.doFinal(out, 0);
            assertEquals(oneShot, HexFormat.of().formatHex(out), "Bouncy Castle and the JDK disagree on SHA-256");
            assertEquals(DigestAlgorithm.BLAKE3.digest(bytes), DigestAlgorithm.BLAKE3.digest(offHeap));
        }
    }

    @Test
    void cancelledHashingStops() {
        byte[] bytes = new byte[2 * DigestAlgorithm.CHUNK];
        for (DigestAlgorithm a : DigestAlgorithm.values()) {
            assertThrows(CancellationException.class, () -> a.digest(MemorySegment.ofArray(bytes), () -> true), a.key());
        }
    }

    @Test
    void keysRoundTrip() {
        for (DigestAlgorithm a : DigestAlgorithm.values()) assertEquals(a, DigestAlgorithm.forKey(a.key()).orElseThrow());
        assertEquals(java.util.Optional.empty(), DigestAlgorithm.forKey("md5"));
    }
}
