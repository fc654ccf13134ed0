package dev.qload.core.integrity;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.qload.core.checkpoint.Checkpoint;
import dev.qload.core.error.ErrorId;
import dev.qload.core.error.QLoadException;
import dev.qload.core.load.LoadOptions;
import dev.qload.core.load.LoadReport;
import dev.qload.core.load.LoadedModel;
import dev.qload.core.load.Phase;
import dev.qload.core.load.TaskSpan;
import dev.qload.core.tensor.DType;
import dev.qload.core.tensor.OffHeap;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import tools.jackson.databind.JsonNode;

/** Loads with --verify off / warn / require: what is hashed, what fails, and that a failed load leaves nothing behind. */
class VerifiedLoadTest {
    @TempDir
    Path dir;

    private static LoadOptions verify(VerifyPolicy policy) {
        return LoadOptions.builder().verify(policy).build();
    }

    private static Optional<Phase> phase(LoadReport r, String name) {
        return r.phases().stream().filter(p -> p.name().equals(name)).findFirst();
    }

    private static void writeManifest(Path dir) {
        try (Checkpoint c = Checkpoint.open(dir)) {
            ChecksumManifest.compute(c, 2).write(dir);
        }
    }

    /** Loads, expecting failure; checks that every off-heap byte and mapping the load made is released. */
    private static QLoadException loadFails(Path dir, LoadOptions options) {
        long live = OffHeap.liveBytes();
        QLoadException e = assertThrows(QLoadException.class, () -> ToyFiles.loader().load(dir, options).close());
        assertEquals(live, OffHeap.liveBytes(), "off-heap bytes leaked by a failed load");
        return e;
    }

    @Test
    void requireWithAMatchingManifestLoadsAndReportsWhatItVerified() {
        ToyFiles.single(dir);
        writeManifest(dir);
        try (LoadedModel m = ToyFiles.loader().load(dir, verify(VerifyPolicy.REQUIRE))) {
            LoadReport r = m.report();
            assertEquals("require", r.verifyPolicy());
            assertEquals(2, r.verifiedFiles(), "config.json and model.safetensors");
            assertEquals("sha256", r.digestAlgorithm());
            assertTrue(phase(r, "verify").isPresent(), r.phases().toString());
            assertTrue(phase(r, "materialize").isPresent(), r.phases().toString());
            assertEquals(List.of(), r.warnings());
            assertTrue(r.spans().stream().map(TaskSpan::name).anyMatch("sha256 model.safetensors"::equals), r.spans().toString());
            JsonNode json = r.toJson();
            assertEquals(2, json.get("verified_files").asInt());
            assertEquals("sha256", json.get("digest_algorithm").asString());
            assertEquals("require", json.get("verify_policy").asString());
            assertTrue(json.get("phases").has("verify"));
            for (String stable : List.of("total_ms", "phases", "bytes_read", "bytes_mapped", "peak_offheap_bytes", "missing_keys", "unexpected_keys",
                    "mismatched_keys")) {
                assertTrue(json.has(stable), stable);
            }
            assertTrue(r.toTable().contains("2 file(s), sha256 (require)"), r.toTable());
        }
    }

    @Test
    void flippedByteUnderRequireFailsNamingTheFileAndBothDigestsAndReleasesEverything() {
        ToyFiles.single(dir);
        writeManifest(dir);
        Path weights = dir.resolve("model.safetensors");
        String expected = ToyFiles.sha256(weights);
        ToyFiles.flipLastByte(weights);
        String actual = ToyFiles.sha256(weights);
        for (LoadOptions options : List.of(verify(VerifyPolicy.REQUIRE),
                LoadOptions.builder().verify(VerifyPolicy.REQUIRE).dtype(DType.BF16).threads(1).build(),
                LoadOptions.builder().verify(VerifyPolicy.REQUIRE).residency(dev.qload.core.load.Residency.COPIED).threads(3).build())) {
            QLoadException e = loadFails(dir, options);
            assertEquals(ErrorId.CHECKSUM_MISMATCH, e.id(), e.getMessage());
            assertEquals(1, e.problems().size(), e.getMessage());
            String line = e.firstLine();
            assertTrue(line.startsWith("[qload/ChecksumMismatch] 'model.safetensors' does not match qload-checksums.json: sha256 expected "
                    + expected + ", found " + actual), line);
            assertTrue(line.contains("(file " + weights + ")"), line);
        }
    }

    @Test
    void flippedByteUnderWarnLoadsWithAWarning() {
        ToyFiles.single(dir);
        writeManifest(dir);
        ToyFiles.flipLastByte(dir.resolve("model.safetensors"));
        try (LoadedModel m = ToyFiles.loader().load(dir, verify(VerifyPolicy.WARN))) {
            LoadReport r = m.report();
            assertEquals(1, r.verifiedFiles(), "config.json still matches");
            assertEquals(1, r.warnings().size(), r.warnings().toString());
            assertTrue(r.warnings().getFirst().startsWith("[qload/ChecksumMismatch] 'model.safetensors' does not match"), r.warnings().toString());
            assertTrue(r.toJson().get("warnings").toString().contains("ChecksumMismatch"));
        }
    }

    @Test
    void offHashesNothingAndReadsNoManifest() throws Exception {
        ToyFiles.single(dir);
        writeManifest(dir);
        ToyFiles.flipLastByte(dir.resolve("model.safetensors"));
        Files.writeString(dir.resolve(ChecksumManifest.FILE_NAME), "not even JSON"); // would fail if it were read
        long hashed = DigestAlgorithm.bytesHashed();
        for (LoadOptions options : List.of(LoadOptions.defaults(), verify(VerifyPolicy.OFF))) {
            try (LoadedModel m = ToyFiles.loader().load(dir, options)) {
                LoadReport r = m.report();
                assertEquals("off", r.verifyPolicy());
                assertEquals(0, r.verifiedFiles());
                assertEquals("none", r.digestAlgorithm());
                assertFalse(phase(r, "verify").isPresent(), r.phases().toString());
                assertFalse(r.toTable().contains("sha256"), r.toTable());
                assertFalse(r.toJson().has("verified_files"), "a load that verified nothing reports no verification fields");
            }
        }
        assertEquals(hashed, DigestAlgorithm.bytesHashed(), "a load with verification off hashed something");
    }

    @Test
    void expectedDigestsPassedInTheOptionsAreUsedInsteadOfTheManifest() {
        ToyFiles.single(dir);
        Path weights = dir.resolve("model.safetensors");
        String good = ToyFiles.sha256(weights);
        // no manifest at all: the options alone
        try (LoadedModel m = ToyFiles.loader().load(dir, LoadOptions.builder()
                .verify(VerifyPolicy.REQUIRE, Map.of("model.safetensors", ExpectedDigest.sha256(good.toUpperCase(java.util.Locale.ROOT)))).build())) {
            assertEquals(1, m.report().verifiedFiles());
            assertEquals("sha256", m.report().digestAlgorithm());
        }
        // a BLAKE3-only expectation is checked with BLAKE3
        String blake3 = DigestAlgorithm.BLAKE3.digest(readAll(weights));
        try (LoadedModel m = ToyFiles.loader().load(dir, LoadOptions.builder()
                .verify(VerifyPolicy.REQUIRE, Map.of("model.safetensors", ExpectedDigest.blake3(blake3))).build())) {
            assertEquals("blake3", m.report().digestAlgorithm());
        }
        // the options win over a manifest that says otherwise
        writeManifest(dir);
        String bad = "0".repeat(64);
        QLoadException e = loadFails(dir, LoadOptions.builder().verify(VerifyPolicy.REQUIRE, Map.of("model.safetensors", ExpectedDigest.sha256(bad))).build());
        assertEquals(ErrorId.CHECKSUM_MISMATCH, e.id());
        assertTrue(e.firstLine().contains("does not match the expected digests of the load options: sha256 expected " + bad + ", found " + good),
                e.firstLine());
    }

    @Test
    void aManifestNamingAFileThatDoesNotExistFailsUnderRequireBeforeAllocatingAndWarnsUnderWarn() throws Exception {
        ToyFiles.single(dir);
        writeManifest(dir);
        Path manifest = dir.resolve(ChecksumManifest.FILE_NAME);
        Files.writeString(manifest, Files.readString(manifest).replace("\"files\" : {",
                "\"files\" : {\"model-extra.safetensors\": {\"size\": 3, \"sha256\": \"" + "00".repeat(32) + "\"},"));
        long allocated = OffHeap.totalAllocatedBytes();
        long hashed = DigestAlgorithm.bytesHashed();
        QLoadException e = loadFails(dir, verify(VerifyPolicy.REQUIRE));
        assertEquals(ErrorId.CHECKSUM_FILE_MISSING, e.id());
        assertTrue(e.firstLine().contains("qload-checksums.json lists 'model-extra.safetensors', which is not in the checkpoint directory"),
                e.firstLine());
        assertEquals(allocated, OffHeap.totalAllocatedBytes(), "the load allocated before failing on what it knew without hashing");
        assertEquals(hashed, DigestAlgorithm.bytesHashed(), "the load hashed before failing on what it knew without hashing");
        try (LoadedModel m = ToyFiles.loader().load(dir, verify(VerifyPolicy.WARN))) {
            assertEquals(2, m.report().verifiedFiles());
            assertEquals(1, m.report().warnings().size(), m.report().warnings().toString());
            assertTrue(m.report().warnings().getFirst().contains("[qload/ChecksumFileMissing]"), m.report().warnings().toString());
        }
    }

    @Test
    void requireWithoutAnyExpectedDigestFailsBeforeAllocating() {
        ToyFiles.single(dir);
        long allocated = OffHeap.totalAllocatedBytes();
        QLoadException e = loadFails(dir, verify(VerifyPolicy.REQUIRE));
        assertEquals(ErrorId.CHECKSUM_MISSING, e.id());
        assertTrue(e.firstLine().contains("no qload-checksums.json in the checkpoint directory"), e.firstLine());
        assertEquals(allocated, OffHeap.totalAllocatedBytes());
        try (LoadedModel m = ToyFiles.loader().load(dir, verify(VerifyPolicy.WARN))) {
            assertEquals(0, m.report().verifiedFiles());
            assertEquals("none", m.report().digestAlgorithm());
            assertTrue(m.report().warnings().getFirst().contains("[qload/ChecksumMissing]"), m.report().warnings().toString());
        }
    }

    @Test
    void aShardTheManifestDoesNotListFailsUnderRequireNamingIt() throws Exception {
        ToyFiles.sharded(dir);
        writeManifest(dir);
        Path manifest = dir.resolve(ChecksumManifest.FILE_NAME);
        ChecksumManifest m = ChecksumManifest.find(dir).orElseThrow();
        Map<String, ExpectedDigest> files = new java.util.TreeMap<>(m.files());
        files.remove("model-00002-of-00002.safetensors");
        new ChecksumManifest(files).write(dir);
        QLoadException e = loadFails(dir, verify(VerifyPolicy.REQUIRE));
        assertEquals(ErrorId.CHECKSUM_MISSING, e.id());
        assertTrue(e.firstLine().contains("weight file 'model-00002-of-00002.safetensors' has no expected digest in qload-checksums.json"),
                e.firstLine());
        assertTrue(Files.exists(manifest));
    }

    @Test
    void everyShardIsHashedAndTheMismatchingOneIsNamed() {
        ToyFiles.sharded(dir);
        writeManifest(dir);
        try (LoadedModel m = ToyFiles.loader().load(dir, LoadOptions.builder().verify(VerifyPolicy.REQUIRE).threads(2).build())) {
            assertEquals(4, m.report().verifiedFiles(), "config, index and both shards");
        }
        ToyFiles.flipLastByte(dir.resolve("model-00001-of-00002.safetensors"));
        QLoadException e = loadFails(dir, verify(VerifyPolicy.REQUIRE));
        assertTrue(e.firstLine().contains("'model-00001-of-00002.safetensors' does not match"), e.firstLine());
    }

    @Test
    void filesLargerThanAHashChunkVerifyWithOneOrManyThreads() {
        ToyFiles.single(dir, 512, 1100, 5); // ~2.2 MB of weights: several 1 MiB hash chunks, several 4 MiB-or-less copy chunks
        writeManifest(dir);
        for (int threads : new int[] {1, 2, 5}) {
            try (LoadedModel m = ToyFiles.loader().load(dir, LoadOptions.builder().verify(VerifyPolicy.REQUIRE).dtype(DType.BF16).threads(threads).build())) {
                assertEquals(2, m.report().verifiedFiles(), "threads " + threads);
            }
        }
    }

    private static byte[] readAll(Path file) {
        try {
            return Files.readAllBytes(file);
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }
}
