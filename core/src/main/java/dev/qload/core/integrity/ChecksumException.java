package dev.qload.core.integrity;

import dev.qload.core.error.Problem;
import dev.qload.core.error.QLoadException;
import java.util.List;

/**
 * Thrown when files do not match their expected digests under {@link VerifyPolicy#REQUIRE}, when
 * a checksum manifest is malformed, or when a file cannot be read to be hashed.
 */
public class ChecksumException extends QLoadException {
    public ChecksumException(Problem problem) {
        super(problem);
    }

    public ChecksumException(Problem problem, Throwable cause) {
        super(problem, cause);
    }

    public ChecksumException(List<Problem> problems) {
        super(problems);
    }

    public ChecksumException(List<Problem> problems, Throwable cause) {
        super(problems, cause);
    }
}
