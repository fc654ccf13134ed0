package dev.qload.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.qload.core.config.Json;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import tools.jackson.databind.JsonNode;

/** {@code qload quantize --method gptq}: with calibration data (GPTQ) and without (RTN), and its errors. */
class QuantizeGptqCommandTest {
    private static final String TEXT = "In the beginning God created the heaven and the earth. And the earth was without form, and void; "
            + "and darkness was upon the face of the deep. And the Spirit of God moved upon the face of the waters. And God said, Let there be light: and there was light.\n";

    @Test
    void gptqWithCalibrationTextWritesACheckpointThatLoadsAsGptq(@TempDir Path tmp) throws Exception {
        Path text = Files.writeString(tmp.resolve("calibration.txt"), TEXT.repeat(2));
        Path out = tmp.resolve("gptq");
        CliTest.Result r = CliTest.run("quantize", CliTest.testdata("demo-llama").toString(), "--method", "gptq", "--bits", "4", "--group-size", "64",
                "--desc-act", "--calibration-text", text.toString(), "--sequence-length", "64", "--out", out.toString());
        assertEquals(0, r.code(), r.err());
        int sequences = TEXT.repeat(2).getBytes(java.nio.charset.StandardCharsets.UTF_8).length / 64;
        assertTrue(r.out().contains("with GPTQ (4-bit, group 64) on " + sequences + " calibration sequences"), r.out());
        JsonNode q = Json.STRICT.readTree(Files.readString(out.resolve("config.json"))).get("quantization_config");
        assertEquals("gptq", q.get("quant_method").asString());
        assertEquals(4, q.get("bits").asInt());
        assertEquals(64, q.get("group_size").asInt());
        assertTrue(q.get("desc_act").asBoolean());
        assertEquals("gptq", q.get("checkpoint_format").asString());
        CliTest.Result loaded = CliTest.run("load", out.toString());
        assertEquals(0, loaded.code(), loaded.err());
        assertTrue(loaded.out().contains("gptq"), loaded.out());
        CliTest.Result generated = CliTest.run("generate", out.toString(), "--prompt", "In the beginning", "--max-tokens", "8");
        assertEquals(0, generated.code(), generated.err());
    }

    @Test
    void gptqWithoutCalibrationIsRoundToNearestAndSaysSo(@TempDir Path tmp) {
        Path out = tmp.resolve("rtn");
        CliTest.Result r = CliTest.run("quantize", CliTest.testdata("demo-llama").toString(), "--method", "gptq", "--bits", "8", "--group-size", "-1",
                "--out", out.toString());
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().contains("round-to-nearest"), r.out());
        assertTrue(Files.exists(out.resolve("config.json")));
    }

    @Test
    void calibrationIdOutsideTheVocabularyIsOneLineNamingThePosition(@TempDir Path tmp) throws Exception {
        Path ids = Files.writeString(tmp.resolve("ids.json"), "[[1, 2, 3], [4, 999, 5]]");
        CliTest.Result r = CliTest.run("quantize", CliTest.testdata("demo-llama").toString(), "--method", "gptq", "--calibration", ids.toString(),
                "--out", tmp.resolve("x").toString());
        assertTrue(r.code() != 0);
        assertEquals(1, r.err().strip().lines().count(), r.err());
        assertTrue(r.err().contains("[qload/CalibrationInvalid]") && r.err().contains("sequence 1, position 1: token id 999"), r.err());
        assertFalse(Files.exists(tmp.resolve("x")), "nothing written for a failed quantization");
    }

    @Test
    void calibrationLinesThatAreNotIdsPointToTheTextOption(@TempDir Path tmp) throws Exception {
        Path ids = Files.writeString(tmp.resolve("ids.txt"), "1 2 3\nhello world\n");
        CliTest.Result r = CliTest.run("quantize", CliTest.testdata("demo-llama").toString(), "--method", "gptq", "--calibration", ids.toString(),
                "--out", tmp.resolve("x").toString());
        assertTrue(r.code() != 0);
        assertTrue(r.err().contains("[qload/CalibrationInvalid]") && r.err().contains("line 2") && r.err().contains("--calibration-text"), r.err());
    }
}
