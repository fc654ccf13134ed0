package dev.qload.core.integrity;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Optional;

/**
 * What one file should hash to. {@code size} is its length in bytes, or -1 when not known (a
 * caller that has only the Hub's LFS object id); {@code sha256} and {@code blake3} are 64 hex digits
 * (stored lower-case), either may be null, not both.
 */
public record ExpectedDigest(long size, String sha256, String blake3) {
    public static final long UNKNOWN_SIZE = -1;

    public ExpectedDigest {
        if (size < UNKNOWN_SIZE) throw new IllegalArgumentException("size must be a byte count or -1 (unknown), got " + size);
        sha256 = normalize("sha256", sha256);
        blake3 = normalize("blake3", blake3);
        if (sha256 == null && blake3 == null) throw new IllegalArgumentException("an expected digest needs a sha256 or a blake3 value");
    }

    /** The SHA-256 alone, e.g. a file's LFS object id on the Hugging Face Hub. */
    public static ExpectedDigest sha256(String hex) {
        return new ExpectedDigest(UNKNOWN_SIZE, hex, null);
    }

    public static ExpectedDigest blake3(String hex) {
        return new ExpectedDigest(UNKNOWN_SIZE, null, hex);
    }

    public Optional<String> value(DigestAlgorithm algorithm) {
        return Optional.ofNullable(switch (algorithm) {
            case SHA256 -> sha256;
            case BLAKE3 -> blake3;
        });
    }

    /** The algorithms this digest can be checked with, fastest first (see {@link DigestAlgorithm}). */
    public List<DigestAlgorithm> algorithms() {
        List<DigestAlgorithm> present = new ArrayList<>();
        for (DigestAlgorithm a : DigestAlgorithm.FASTEST_FIRST) if (value(a).isPresent()) present.add(a);
        return present;
    }

    /** Whether {@code hex} is 64 hex digits, either case. */
    static boolean isHex256(String hex) {
        if (hex.length() != 64) return false;
        for (int i = 0; i < hex.length(); i++) {
            char c = hex.charAt(i);
            if (!(c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F')) return false;
        }
        return true;
    }

    private static String normalize(String name, String hex) {
        if (hex == null) return null;
        if (!isHex256(hex)) throw new IllegalArgumentException(name + " must be 64 hex digits, got '" + hex + "'");
        return hex.toLowerCase(Locale.ROOT);
    }
}
