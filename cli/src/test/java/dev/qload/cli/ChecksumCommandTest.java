package dev.qload.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.qload.cli.CliTest.Result;
import dev.qload.core.config.Json;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import tools.jackson.databind.JsonNode;

/** {@code qload checksum --write/--verify} and {@code qload load --verify}, on a copy of testdata/tiny-llama. */
class ChecksumCommandTest {
    @TempDir
    Path dir;

    private Path copyOfTinyLlama() throws IOException {
        for (String name : new String[] {"config.json", "model.safetensors"}) Files.copy(CliTest.testdata("tiny-llama").resolve(name), dir.resolve(name));
        return dir;
    }

    private static void flipLastByte(Path file) throws IOException {
        byte[] b = Files.readAllBytes(file);
        b[b.length - 1] ^= (byte) 0xFF;
        Files.write(file, b, StandardOpenOption.TRUNCATE_EXISTING);
    }

    private static void assertOneLineError(Result r, String prefix) {
        assertEquals(Main.EXIT_BAD_INPUT, r.code(), r.out() + r.err());
        assertEquals(1, r.err().strip().lines().count(), r.err());
        assertTrue(r.err().startsWith(prefix), r.err());
        assertFalse(r.err().contains("\tat "), "stack trace printed");
    }

    @Test
    void writeThenVerifyIsOkForEveryFile() throws Exception {
        copyOfTinyLlama();
        Result w = CliTest.run("checksum", dir.toString(), "--write");
        assertEquals(0, w.code(), w.err());
        assertTrue(w.out().contains("wrote " + dir.resolve("qload-checksums.json") + " (2 files)"), w.out());
        JsonNode manifest = Json.STRICT.readTree(Files.readString(dir.resolve("qload-checksums.json")));
        assertEquals(1, manifest.get("algorithm-version").asInt());
        assertEquals(Files.size(dir.resolve("model.safetensors")), manifest.get("files").get("model.safetensors").get("size").asLong());

        Result v = CliTest.run("checksum", dir.toString(), "--verify", "--threads", "2");
        assertEquals(0, v.code(), v.err());
        assertTrue(v.out().contains("OK        config.json (sha256, blake3)"), v.out());
        assertTrue(v.out().contains("OK        model.safetensors (sha256, blake3)"), v.out());
        assertTrue(v.out().contains("2 file(s) match"), v.out());
        assertEquals("", v.err());
    }

    @Test
    void verifyPrintsAMismatchLineAndExitsNonZero() throws Exception {
        copyOfTinyLlama();
        assertEquals(0, CliTest.run("checksum", dir.toString(), "--write").code());
        flipLastByte(dir.resolve("model.safetensors"));
        Result v = CliTest.run("checksum", dir.toString(), "--verify");
        assertOneLineError(v, "qload: [qload/ChecksumMismatch] 'model.safetensors' does not match qload-checksums.json: sha256 expected ");
        assertTrue(v.out().contains("OK        config.json"), v.out());
        assertTrue(v.out().contains("MISMATCH  model.safetensors: sha256 expected "), v.out());
        assertTrue(v.out().contains("blake3 expected "), v.out());
    }

    @Test
    void verifyWithoutAManifestSaysHowToWriteOne() throws Exception {
        copyOfTinyLlama();
        Result v = CliTest.run("checksum", dir.toString(), "--verify");
        assertOneLineError(v, "qload: [qload/ChecksumMissing] there is no qload-checksums.json to verify against");
        assertTrue(v.err().contains("qload checksum DIR --write"), v.err());
    }

    @Test
    void verifyReportsAListedFileThatIsGoneAndAnUnlistedShard() throws Exception {
        copyOfTinyLlama();
        assertEquals(0, CliTest.run("checksum", dir.toString(), "--write").code());
        Files.copy(dir.resolve("model.safetensors"), dir.resolve("extra.safetensors"));
        Files.delete(dir.resolve("config.json"));
        Result v = CliTest.run("checksum", dir.toString(), "--verify");
        assertOneLineError(v, "qload: [qload/ChecksumFileMissing] qload-checksums.json lists 'config.json'");
        assertTrue(v.out().contains("MISSING   config.json: listed in qload-checksums.json, not in the directory"), v.out());
        assertTrue(v.out().contains("UNLISTED  extra.safetensors: not in qload-checksums.json"), v.out());
    }

    @Test
    void checksumNeedsWriteOrVerify() throws Exception {
        copyOfTinyLlama();
        Result r = CliTest.run("checksum", dir.toString());
        assertEquals(2, r.code(), r.err()); // picocli's usage error
        assertTrue(r.err().contains("--write") && r.err().contains("--verify"), r.err());
        assertEquals(2, CliTest.run("checksum", dir.toString(), "--write", "--verify").code());
        assertOneLineError(CliTest.run("checksum", dir.resolve("nope").toString(), "--verify"), "qload: [qload/CheckpointNotFound]");
    }

    @Test
    void loadWithVerifyRequireFailsOnACorruptedCopyWithOneLine() throws Exception {
        copyOfTinyLlama();
        assertEquals(0, CliTest.run("checksum", dir.toString(), "--write").code());
        Path report = dir.resolve("report.json");
        Result ok = CliTest.run("load", dir.toString(), "--verify", "require", "--report-json", report.toString());
        assertEquals(0, ok.code(), ok.err());
        assertTrue(ok.out().contains("2 file(s), sha256 (require)"), ok.out());
        JsonNode json = Json.STRICT.readTree(Files.readString(report));
        assertEquals(2, json.get("verified_files").asInt());
        assertEquals("sha256", json.get("digest_algorithm").asString());
        assertTrue(json.get("phases").has("verify"), json.toString());

        flipLastByte(dir.resolve("model.safetensors"));
        Result bad = CliTest.run("load", dir.toString(), "--verify", "require");
        assertOneLineError(bad, "qload: [qload/ChecksumMismatch] 'model.safetensors' does not match qload-checksums.json: sha256 expected ");
        assertTrue(bad.err().contains("(file " + dir.resolve("model.safetensors") + ")"), bad.err());
        assertFalse(bad.out().contains("LOAD REPORT"), bad.out());

        Result warn = CliTest.run("load", dir.toString(), "--verify", "warn");
        assertEquals(0, warn.code(), warn.err());
        assertTrue(warn.out().contains("warning: [qload/ChecksumMismatch] 'model.safetensors'"), warn.out());

        Result off = CliTest.run("load", dir.toString());
        assertEquals(0, off.code(), off.err());
        assertTrue(off.out().contains("verified               off"), off.out());
    }

    @Test
    void unknownVerifyPolicyIsAClearError() throws Exception {
        copyOfTinyLlama();
        Result r = CliTest.run("load", dir.toString(), "--verify", "maybe");
        assertOneLineError(r, "qload: [qload/ConfigInvalid] --verify maybe is not one of off, warn, require");
    }
}
