package dev.qload.core.integrity;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.qload.core.checkpoint.Checkpoint;
import dev.qload.core.error.ErrorId;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ChecksumManifestTest {
    @TempDir
    Path dir;

    private ChecksumManifest writeManifest() {
        try (Checkpoint c = Checkpoint.open(dir)) {
            ChecksumManifest m = ChecksumManifest.compute(c, 2);
            m.write(dir);
            return m;
        }
    }

    private List<FileCheck> verifyAll() {
        ChecksumManifest m = ChecksumManifest.find(dir).orElseThrow();
        return Verification.plan(dir, Map.of(), m.files(), ChecksumManifest.FILE_NAME, Verification.Scope.EVERY).run(2);
    }

    private ChecksumException invalid(String json) throws Exception {
        Files.writeString(dir.resolve(ChecksumManifest.FILE_NAME), json);
        ChecksumException e = assertThrows(ChecksumException.class, () -> ChecksumManifest.find(dir));
        assertEquals(ErrorId.CHECKSUM_MANIFEST_INVALID, e.id(), e.getMessage());
        assertTrue(e.getMessage().contains(ChecksumManifest.FILE_NAME), e.getMessage());
        return e;
    }

    private static String entry(String name) {
        return "{\"algorithm-version\": 1, \"files\": {\"" + name + "\": {\"size\": 1, \"sha256\": \"" + "ab".repeat(32) + "\"}}}";
    }

    @Test
    void writeListsConfigIndexAndShardsWithIndependentlyComputedDigests() throws Exception {
        ToyFiles.sharded(dir);
        ChecksumManifest written = writeManifest();
        assertEquals(Set.of("config.json", "model.safetensors.index.json", "model-00001-of-00002.safetensors", "model-00002-of-00002.safetensors"),
                written.files().keySet());
        for (var e : written.files().entrySet()) {
            Path file = dir.resolve(e.getKey());
            assertEquals(Files.size(file), e.getValue().size(), e.getKey());
            assertEquals(ToyFiles.sha256(file), e.getValue().sha256(), e.getKey());
            assertEquals(DigestAlgorithm.BLAKE3.digest(Files.readAllBytes(file)), e.getValue().blake3(), e.getKey());
        }
        assertEquals(written, ChecksumManifest.read(dir.resolve(ChecksumManifest.FILE_NAME)));
        String text = Files.readString(dir.resolve(ChecksumManifest.FILE_NAME));
        assertTrue(text.contains("\"algorithm-version\" : 1"), text);
        assertTrue(text.endsWith("\n"), "no final newline");
        assertTrue(text.indexOf("config.json") < text.indexOf("model-00001"), "keys are not sorted: " + text);
    }

    @Test
    void verifyRoundTripIsAllOkWithEveryDigest() {
        ToyFiles.sharded(dir);
        writeManifest();
        List<FileCheck> checks = verifyAll();
        assertEquals(4, checks.size());
        for (FileCheck c : checks) {
            assertTrue(c.ok(), c.line());
            assertEquals(List.of(DigestAlgorithm.SHA256, DigestAlgorithm.BLAKE3), c.digests().stream().map(FileCheck.DigestCheck::algorithm).toList());
            assertTrue(c.line().startsWith("OK        "), c.line());
        }
    }

    @Test
    void flippedByteIsAMismatchNamingTheFileAndBothDigests() {
        ToyFiles.sharded(dir);
        ChecksumManifest m = writeManifest();
        Path shard = dir.resolve("model-00002-of-00002.safetensors");
        ToyFiles.flipLastByte(shard);
        List<FileCheck> checks = verifyAll();
        FileCheck bad = checks.stream().filter(c -> !c.ok()).findFirst().orElseThrow();
        assertEquals(1, checks.stream().filter(c -> !c.ok()).count());
        assertEquals(FileCheck.Status.MISMATCH, bad.status());
        assertEquals("model-00002-of-00002.safetensors", bad.file());
        String expected = m.files().get(bad.file()).sha256();
        assertTrue(bad.line().startsWith("MISMATCH  model-00002-of-00002.safetensors: sha256 expected " + expected + ", found " + ToyFiles.sha256(shard)),
                bad.line());
        assertTrue(bad.line().contains("blake3 expected"), bad.line());
        assertEquals(ErrorId.CHECKSUM_MISMATCH, bad.problem().id());
    }

    @Test
    void aListedFileThatDoesNotExistIsMissing() throws Exception {
        ToyFiles.single(dir);
        writeManifest();
        String text = Files.readString(dir.resolve(ChecksumManifest.FILE_NAME));
        Files.writeString(dir.resolve(ChecksumManifest.FILE_NAME), text.replace("\"files\" : {",
                "\"files\" : {\"tokenizer.json\": {\"size\": 3, \"sha256\": \"" + "00".repeat(32) + "\"},"));
        FileCheck missing = verifyAll().stream().filter(c -> c.file().equals("tokenizer.json")).findFirst().orElseThrow();
        assertEquals(FileCheck.Status.MISSING, missing.status());
        assertEquals(ErrorId.CHECKSUM_FILE_MISSING, missing.problem().id());
        assertTrue(missing.problem().render().contains("tokenizer.json"), missing.problem().render());
    }

    @Test
    void aWrongSizeIsAMismatchWithoutHashing() throws Exception {
        ToyFiles.single(dir);
        ChecksumManifest m = writeManifest();
        ExpectedDigest right = m.files().get("model.safetensors");
        Map<String, ExpectedDigest> expected = Map.of("model.safetensors", new ExpectedDigest(right.size() + 1, right.sha256(), right.blake3()));
        long before = DigestAlgorithm.bytesHashed();
        Verification plan = Verification.plan(dir, Map.of(), expected, "test", Verification.Scope.EVERY);
        List<FileCheck> checks = plan.run(1);
        assertEquals(before, DigestAlgorithm.bytesHashed(), "a size mismatch should not be hashed");
        assertEquals(FileCheck.Status.MISMATCH, checks.getFirst().status());
        assertTrue(checks.getFirst().detail().contains("size expected " + (right.size() + 1)), checks.getFirst().detail());
    }

    @Test
    void upperCaseDigestsAreReadAndWrittenLowerCase() throws Exception {
        Files.writeString(dir.resolve(ChecksumManifest.FILE_NAME),
                "{\"algorithm-version\": 1, \"files\": {\"a.bin\": {\"size\": 1, \"blake3\": \"" + "AB".repeat(32) + "\"}}}");
        ExpectedDigest d = ChecksumManifest.find(dir).orElseThrow().files().get("a.bin");
        assertEquals("ab".repeat(32), d.blake3());
        assertNull(d.sha256());
    }

    @Test
    void rejectsManifestsThatBreakTheFormat() throws Exception {
        invalid("[]");
        invalid("{\"algorithm-version\": 1, \"files\": {}");
        invalid("{\"files\": {}}");
        invalid("{\"algorithm-version\": 2, \"files\": {}}");
        invalid("{\"algorithm-version\": \"1\", \"files\": {}}");
        invalid("{\"algorithm-version\": 1, \"files\": {}, \"extra\": 1}");
        invalid("{\"algorithm-version\": 1, \"algorithm-version\": 1, \"files\": {}}");
        invalid("{\"algorithm-version\": 1, \"files\": []}");
        invalid("{\"algorithm-version\": 1, \"files\": {\"a\": {\"size\": 1}}}");
        invalid("{\"algorithm-version\": 1, \"files\": {\"a\": {\"size\": -1, \"sha256\": \"" + "ab".repeat(32) + "\"}}}");
        invalid("{\"algorithm-version\": 1, \"files\": {\"a\": {\"sha256\": \"" + "ab".repeat(32) + "\"}}}");
        invalid("{\"algorithm-version\": 1, \"files\": {\"a\": {\"size\": 1, \"sha256\": \"" + "ab".repeat(31) + "\"}}}");
        invalid("{\"algorithm-version\": 1, \"files\": {\"a\": {\"size\": 1, \"sha256\": \"" + "zz".repeat(32) + "\"}}}");
        invalid("{\"algorithm-version\": 1, \"files\": {\"a\": {\"size\": 1, \"md5\": \"" + "ab".repeat(16) + "\"}}}");
        assertTrue(invalid(entry("../outside.safetensors")).getMessage().contains("../outside.safetensors"));
        invalid(entry("/etc/passwd"));
        invalid(entry("sub/./x"));
        invalid(entry(""));
        invalid(entry(ChecksumManifest.FILE_NAME));
    }

    @Test
    void noManifestIsEmptyAndSubdirectoriesAreAllowedNames() throws Exception {
        assertTrue(ChecksumManifest.find(dir).isEmpty());
        Files.writeString(dir.resolve(ChecksumManifest.FILE_NAME), entry("sub/dir/x.bin"));
        assertEquals(Set.of("sub/dir/x.bin"), ChecksumManifest.find(dir).orElseThrow().files().keySet());
    }

    @Test
    void programmaticDigestsAreValidated() {
        assertThrows(IllegalArgumentException.class, () -> ExpectedDigest.sha256("abc"));
        assertThrows(IllegalArgumentException.class, () -> new ExpectedDigest(1, null, null));
        assertThrows(IllegalArgumentException.class, () -> new ExpectedDigest(-2, "ab".repeat(32), null));
        assertEquals(List.of(DigestAlgorithm.SHA256, DigestAlgorithm.BLAKE3), new ExpectedDigest(1, "ab".repeat(32), "cd".repeat(32)).algorithms());
        ChecksumException e = assertThrows(ChecksumException.class, () -> Verification.plan(dir, Map.of(),
                Map.of("../x", ExpectedDigest.sha256("ab".repeat(32))), "the load options", Verification.Scope.FASTEST));
        assertEquals(ErrorId.CHECKSUM_MANIFEST_INVALID, e.id());
    }
}
