package dev.qload.core.integrity;

import java.util.Locale;
import java.util.Optional;

/** Whether a load checks its files against expected digests, and what a mismatch does. */
public enum VerifyPolicy {
    /** No hashing at all (the default): the load reads nothing it does not need. */
    OFF,
    /** Hash what has an expected digest; a mismatch, a missing digest or a missing file becomes a report warning. */
    WARN,
    /**
     * Every weight file must have an expected digest and match it, and every file the expected
     * digests name must exist; otherwise the load fails before the model is handed out.
     */
    REQUIRE;

    /** {@code off}, {@code warn}, {@code require}: the spelling of options and reports. */
    public String key() {
        return name().toLowerCase(Locale.ROOT);
    }

    public static Optional<VerifyPolicy> forKey(String key) {
        for (VerifyPolicy p : values()) if (p.key().equals(key)) return Optional.of(p);
        return Optional.empty();
    }
}
