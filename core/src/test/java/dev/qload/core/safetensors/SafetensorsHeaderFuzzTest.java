package dev.qload.core.safetensors;

import com.code_intelligence.jazzer.junit.FuzzTest;
import dev.qload.core.error.SafetensorsException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.util.Arrays;

/**
 * Coverage-guided fuzzing (Jazzer) of the safetensors header parser: whatever the bytes, the parser
 * either returns a header whose tensors tile the data buffer exactly, or throws a
 * {@link SafetensorsException}. Any other throwable (an {@code ArithmeticException}, a Jackson
 * exception that escaped, an {@code OutOfMemoryError}), a hang, or an accepted header that breaks
 * the layout rules is a finding.
 *
 * <p>The default surefire run replays the seeds under {@code SafetensorsHeaderFuzzTestInputs/}
 * (valid files, the committed hostile corpus and every crash ever found) in regression mode; the
 * {@code fuzz} execution of core/pom.xml then fuzzes for {@code -Dqload.fuzz.duration} (5 s by
 * default; {@code -Dqload.fuzz.duration=10m} for a longer run). A crash Jazzer finds fails the build
 * and is written to {@code core/target/crash-<sha1>} (the log shows it in hex and Base64): copy it
 * into the seed directory, fix the parser, and it stays a regression test; add the rule it broke to
 * tools/hostile/make_hostile_corpus.py too.
 */
class SafetensorsHeaderFuzzTest {
    private static final Path FILE = Path.of("fuzz.safetensors");

    @FuzzTest
    void parsesOrRejectsWithATypedError(byte[] file) {
        SafetensorsHeaderParser parser = new SafetensorsHeaderParser(FILE);
        SafetensorsHeader header;
        long n;
        try {
            long prefix = file.length < 8 ? 0 : ByteBuffer.wrap(file, 0, 8).order(ByteOrder.LITTLE_ENDIAN).getLong();
            n = parser.headerLength(file.length, prefix);
            header = parser.parse(Arrays.copyOfRange(file, 8, Math.toIntExact(8 + n)), file.length);
        } catch (SafetensorsException rejected) {
            if (rejected.problems().isEmpty() || !FILE.equals(rejected.problems().getFirst().file())) {
                throw new AssertionError("a rejection must name the file: " + rejected.getMessage());
            }
            return;
        }
        // Accepted: the tensors, in buffer order, must cover [0, file - 8 - n) with no gap and no overlap.
        long expected = 0;
        for (TensorInfo t : header.tensors().stream().sorted((a, b) -> Long.compare(a.begin(), b.begin())).toList()) {
            if (t.begin() != expected) throw new AssertionError("accepted a gap or overlap at " + t);
            if (t.byteLength() * 8 != t.shape().elementCount() * t.dtype().bits()) throw new AssertionError("accepted a wrong length: " + t);
            expected = t.end();
        }
        if (8 + n + expected != file.length) throw new AssertionError("accepted " + (file.length - 8 - n - expected) + " uncovered bytes");
    }
}
