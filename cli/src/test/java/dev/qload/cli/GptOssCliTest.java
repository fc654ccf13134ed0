package dev.qload.cli;

import static dev.qload.cli.CliTest.run;
import static dev.qload.cli.CliTest.testdata;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.qload.cli.CliTest.Result;
import dev.qload.core.safetensors.SafetensorsFile;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.StringJoiner;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code qload forward} and {@code qload quantize --method mxfp4} on the tiny GPT-OSS of testdata/mxfp4. */
class GptOssCliTest {
    static Path mxfp4(String name) {
        return testdata("mxfp4").resolve(name);
    }

    static String inputIds(float[] ids) {
        StringJoiner j = new StringJoiner(",");
        for (float id : ids) j.add(Integer.toString((int) id));
        return j.toString();
    }

    /** Runs {@code forward} on {@code dir} with the reference's input ids and compares the written logits. */
    static void assertForwardMatchesTheReference(Path dir, Path out) {
        try (SafetensorsFile ref = SafetensorsFile.open(mxfp4("tiny-gpt-oss").resolve("reference.safetensors"))) {
            Result r = run("forward", dir.toString(), "--input-ids", inputIds(ref.tensor("input_ids").toFloatArray()), "--out", out.toString());
            assertEquals(0, r.code(), r.err());
            assertTrue(r.out().contains("top 5 at the last position"), r.out());
            try (SafetensorsFile written = SafetensorsFile.open(out)) {
                float[] expected = ref.tensor("logits").toFloatArray(), actual = written.tensor("logits").toFloatArray();
                assertEquals(expected.length, actual.length);
                for (int i = 0; i < expected.length; i++) assertEquals(expected[i], actual[i], 1e-4f, "logit " + i);
            }
        }
    }

    @Test
    void forwardRunsTheMxfp4CheckpointAsShipped(@TempDir Path tmp) {
        assertForwardMatchesTheReference(mxfp4("tiny-gpt-oss"), tmp.resolve("logits.safetensors"));
    }

    @Test
    void quantizeWritesTheShippedLayoutThatForwardRuns(@TempDir Path tmp) throws Exception {
        Path out = tmp.resolve("quantized");
        Result q = run("quantize", mxfp4("tiny-gpt-oss-bf16").toString(), "--method", "mxfp4", "--out", out.toString());
        assertEquals(0, q.code(), q.err());
        assertTrue(Files.readString(out.resolve("config.json")).contains("\"quant_method\" : \"mxfp4\""));
        Result inspect = run("inspect", out.toString());
        assertTrue(inspect.out().contains("model.layers.0.mlp.experts.gate_up_proj_blocks"), inspect.out());
        assertForwardMatchesTheReference(out, tmp.resolve("logits.safetensors"));
    }

    @Test
    void aNanScaleFailsTheLoadInOneLineNamingTheTensor(@TempDir Path tmp) throws Exception {
        Path dir = Files.createDirectories(tmp.resolve("nan-scale"));
        for (String f : new String[] {"config.json", "model.safetensors"}) Files.copy(mxfp4("tiny-gpt-oss").resolve(f), dir.resolve(f));
        String scales = "model.layers.0.mlp.experts.down_proj_scales";
        long offset;
        try (var ckpt = dev.qload.core.checkpoint.Checkpoint.open(dir)) {
            offset = ckpt.tensors().get(scales).fileOffset();
        }
        try (var file = new java.io.RandomAccessFile(dir.resolve("model.safetensors").toFile(), "rw")) {
            file.seek(offset + 70); // expert 1, row 6 (scales [4, 64, 1])
            file.write(0xFF);
        }
        Result r = run("forward", dir.toString(), "--input-ids", "1,2,3");
        assertEquals(Main.EXIT_BAD_INPUT, r.code(), r.out());
        assertEquals(1, r.err().strip().lines().count(), r.err());
        assertTrue(r.err().startsWith("qload: [qload/E8m0NanScale] scale byte 0xFF (E8M0 NaN) for expert 1, row 6, group 0"), r.err());
        assertTrue(r.err().contains("tensor '" + scales + "'"), r.err());
    }

    @Test
    void generateExplainsInOneLineThatTheModelIsNotByteLevel() {
        Result r = run("generate", mxfp4("tiny-gpt-oss").toString(), "--prompt", "hi", "--max-tokens", "2");
        assertTrue(r.code() != 0);
        assertEquals(1, r.err().strip().lines().count(), r.err());
        assertTrue(r.err().startsWith("qload: [qload/NotSupported] generate needs a byte-level model"), r.err());
    }
}
