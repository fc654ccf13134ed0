package dev.qload.integrity;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.qload.core.QLoad;
import dev.qload.core.checkpoint.Checkpoint;
import dev.qload.core.integrity.ChecksumManifest;
import dev.qload.core.integrity.DigestAlgorithm;
import dev.qload.core.integrity.VerifyPolicy;
import dev.qload.core.load.LoadOptions;
import dev.qload.core.load.LoadedModel;
import dev.qload.core.load.Residency;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A verified load reads each weight file once: the hashing reads the mapping the tensors are views
 * of (or are copied from), not the file again. Shown with byte counts, not times: {@code rchar} of
 * {@code /proc/self/io} counts every byte this process moved through read(2), and a hashing that
 * read the files would add their whole size; and qload's own count of bytes handed to a digest must
 * be the files' size exactly once. (That storage is fetched once, and that files are hashed in
 * parallel, is measured with a cold page cache by bench's VerifyReadsProbe: docs/INTEGRITY.md.)
 */
class OnePassVerificationTest {

    private static long rchar() throws IOException {
        for (String line : Files.readAllLines(Path.of("/proc/self/io"))) {
            if (line.startsWith("rchar:")) return Long.parseLong(line.substring(6).strip());
        }
        throw new IllegalStateException("no rchar in /proc/self/io");
    }

    @Test
    void aVerifiedLoadHashesEachWeightFileOnceFromItsMapping(@TempDir Path dir) throws IOException {
        assumeTrue(Files.isReadable(Path.of("/proc/self/io")), "needs Linux /proc/self/io");
        Path source = Repo.testdata("tiny-llama-sharded");
        long weightBytes = 0, listedBytes = 0; // the manifest lists the shards, config.json and the index
        try (Stream<Path> files = Files.list(source)) {
            for (Path f : files.toList()) {
                Files.copy(f, dir.resolve(f.getFileName()));
                listedBytes += Files.size(f);
                if (f.toString().endsWith(".safetensors")) weightBytes += Files.size(f);
            }
        }
        try (Checkpoint c = Checkpoint.open(dir)) {
            ChecksumManifest.compute(c, 1).write(dir);
        }
        for (Residency residency : Residency.values()) {
            // first the same load unmeasured: class loading reads jars through read(2) too
            QLoad.load(dir, LoadOptions.builder().threads(2).residency(residency).verify(VerifyPolicy.REQUIRE).build()).close();
            long hashedBefore = DigestAlgorithm.bytesHashed(), readBefore = rchar();
            try (LoadedModel model = QLoad.load(dir, LoadOptions.builder().threads(2).residency(residency).verify(VerifyPolicy.REQUIRE).build())) {
                assertEquals(5, model.report().verifiedFiles(), "three shards, config.json and the index verified");
            }
            long hashed = DigestAlgorithm.bytesHashed() - hashedBefore, read = rchar() - readBefore;
            System.out.printf("%s: %d bytes hashed, %d bytes through read(2), %d bytes of weights%n", residency, hashed, read, weightBytes);
            assertEquals(listedBytes, hashed, residency + ": every byte of every listed file hashed exactly once (one digest, SHA-256)");
            assertTrue(read < weightBytes / 2, residency + ": " + read + " bytes went through read(2) for " + weightBytes
                    + " bytes of weights: the hashing must read the mappings, not the files");
        }
    }
}
