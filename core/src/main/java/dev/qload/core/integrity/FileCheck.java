package dev.qload.core.integrity;

import dev.qload.core.error.ErrorId;
import dev.qload.core.error.Problem;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.stream.Collectors;

/**
 * The outcome of checking one file against what it should be.
 *
 * @param file    the file's name relative to the checkpoint directory, as the manifest spells it
 * @param path    where it is (or should be)
 * @param digests one entry per digest computed (none when the outcome needed no hashing)
 * @param detail  what went wrong, without the file name; empty when {@code OK}
 * @param source  where the expectation came from: {@code qload-checksums.json} or {@code LoadOptions}
 */
public record FileCheck(String file, Path path, Status status, List<DigestCheck> digests, String detail, String source) {

    public enum Status {
        /** Every digest computed matches. */
        OK,
        /** The size or a digest differs. */
        MISMATCH,
        /** The expected digests name a file that is not there. */
        MISSING,
        /** A weight file has no expected digest. */
        NO_DIGEST
    }

    /** One digest of the file, as expected and as computed. */
    public record DigestCheck(DigestAlgorithm algorithm, String expected, String actual) {
        public boolean matches() {
            return expected.equals(actual);
        }
    }

    public FileCheck {
        digests = List.copyOf(digests);
    }

    public boolean ok() {
        return status == Status.OK;
    }

    /** {@code OK        model.safetensors (sha256)}, {@code MISMATCH  model.safetensors: sha256 expected …, found …}: one line. */
    public String line() {
        String tail = switch (status) {
            case OK -> " (" + digests.stream().map(d -> d.algorithm().key()).collect(Collectors.joining(", ")) + ")";
            default -> ": " + detail;
        };
        return String.format(Locale.ROOT, "%-9s %s%s", status == Status.NO_DIGEST ? "NO-DIGEST" : status.name(), file, tail);
    }

    /** The problem a failed check is under {@link VerifyPolicy#REQUIRE}; null when {@code OK}. */
    public Problem problem() {
        return switch (status) {
            case OK -> null;
            case MISMATCH -> Problem.inFile(ErrorId.CHECKSUM_MISMATCH, "'" + file + "' does not match " + source + ": " + detail, path, null, -1);
            case MISSING -> Problem.inFile(ErrorId.CHECKSUM_FILE_MISSING, source + " lists '" + file + "', which is not in the checkpoint directory",
                    path, null, -1);
            case NO_DIGEST -> Problem.inFile(ErrorId.CHECKSUM_MISSING, detail, path, null, -1);
        };
    }

    /** The warning a failed check is under {@link VerifyPolicy#WARN}. */
    public String warning() {
        Problem p = problem();
        return p == null ? null : p.render();
    }
}
