package dev.qload.tests;

import java.util.Locale;

/**
 * The one root seed of a conformance run and the seeds derived from it. The root comes from
 * {@code -Dqload.seed=0x…} (hex with {@code 0x}, else decimal) and is fixed otherwise, so a plain
 * run is the same run every time; every model, case and check derives its own seed from the root
 * and its own name, so rerunning one check with the root seed of a failure replays that failure.
 */
final class ConformanceSeed {
    static final String PROPERTY = "qload.seed";
    /** The default root: fixed, so that CI runs are reproducible without flags. */
    static final long DEFAULT = 0x5EED_C0DE_2025L;

    private ConformanceSeed() {}

    static long root() {
        return parse(System.getProperty(PROPERTY));
    }

    /** {@code 0x…} (hex, underscores allowed), a decimal number, or null/blank for {@link #DEFAULT}. */
    static long parse(String value) {
        if (value == null || value.isBlank()) return DEFAULT;
        String v = value.strip().toLowerCase(Locale.ROOT);
        try {
            return v.startsWith("0x") ? Long.parseUnsignedLong(v.substring(2).replace("_", ""), 16) : Long.parseLong(v);
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("-D" + PROPERTY + "=" + value + " is not a seed; write it as 0x1234abcd or as a decimal number", e);
        }
    }

    static String hex(long seed) {
        return "0x" + Long.toHexString(seed);
    }

    /** A seed for {@code parts} under {@code seed}: SplitMix64 over the parts' stable hash codes. */
    static long derive(long seed, Object... parts) {
        long h = mix(seed);
        for (Object part : parts) h = mix(h ^ (part instanceof Number n ? n.longValue() : String.valueOf(part).hashCode() * 0x9E37_79B9L));
        return h;
    }

    /** SplitMix64's finaliser (Steele, Lea, Flood 2014): consecutive inputs give unrelated outputs. */
    static long mix(long z) {
        z += 0x9E37_79B9_7F4A_7C15L;
        z = (z ^ (z >>> 30)) * 0xBF58_476D_1CE4_E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D0_49BB_1331_11EBL;
        return z ^ (z >>> 31);
    }
}
