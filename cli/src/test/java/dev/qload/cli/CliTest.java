package dev.qload.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.qload.core.config.Json;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import tools.jackson.databind.JsonNode;

/** The qload command as a user meets it: output, files written, and one-line errors with non-zero exits. */
class CliTest {
    record Result(int code, String out, String err) {}

    static Result run(String... args) {
        StringWriter out = new StringWriter(), err = new StringWriter();
        int code = Main.run(args, new PrintWriter(out, true), new PrintWriter(err, true));
        return new Result(code, out.toString(), err.toString());
    }

    static Path testdata(String name) {
        String root = System.getProperty("qload.repo.root");
        return (root != null ? Path.of(root) : Path.of("..")).resolve("testdata").resolve(name);
    }

    @Test
    void inspectShowsEveryTensorOfAShardedCheckpoint() {
        Result r = run("inspect", testdata("tiny-llama-sharded").toString());
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().contains("files         3 (sharded, model.safetensors.index.json)"), r.out());
        assertTrue(r.out().contains("tensors       20,"), r.out());
        assertTrue(r.out().contains("model.layers.1.self_attn.v_proj.weight"), r.out());
        assertTrue(r.out().contains("model-00003-of-00003.safetensors @ "), r.out());
        assertTrue(r.out().contains("provider      llama"), r.out());
    }

    @Test
    void loadWritesTheReportAndTheTrace(@TempDir Path tmp) throws Exception {
        Path report = tmp.resolve("report.json"), trace = tmp.resolve("trace.json");
        Result r = run("load", testdata("tiny-llama-sharded").toString(), "--threads", "2", "--report-json", report.toString(), "--trace", trace.toString());
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().contains("LOAD REPORT"), r.out());
        JsonNode json = Json.STRICT.readTree(Files.readString(report));
        assertEquals(2, json.get("threads").asInt());
        assertEquals(0, json.get("missing_keys").size());
        assertTrue(json.get("bytes_mapped").asLong() > 0);
        JsonNode events = Json.STRICT.readTree(Files.readString(trace)).get("traceEvents");
        boolean sawMaterialize = false;
        for (JsonNode e : events) sawMaterialize |= e.get("name").asString().equals("materialize") && e.get("ph").asString().equals("X");
        assertTrue(sawMaterialize, "no materialize phase in the trace");
    }

    @Test
    void dtypeOptionConvertsOnLoad() {
        Result r = run("load", testdata("tiny-llama-sharded").toString(), "--dtype", "float32");
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().contains("dtype                  F32"), r.out());
    }

    @Test
    void pluginsListsTheLlamaArchitectureWithItsSource() {
        Result r = run("plugins");
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().contains("llama"), r.out());
        assertTrue(r.out().contains("LlamaForCausalLM"), r.out());
    }

    @Test
    void missingDirectoryIsOneLineAndExitOne() {
        Result r = run("load", "/definitely/not/here");
        assertEquals(Main.EXIT_BAD_INPUT, r.code());
        assertEquals(1, r.err().strip().lines().count(), r.err());
        assertTrue(r.err().startsWith("qload: [qload/CheckpointNotFound]"), r.err());
        assertFalse(r.err().contains("\tat "), "stack trace printed");
    }

    @Test
    void unknownQuantMethodListsWhatIsAvailable() {
        Result r = run("load", testdata("tiny-llama").toString(), "--quantize", "awq");
        assertEquals(Main.EXIT_BAD_INPUT, r.code());
        assertTrue(r.err().startsWith("qload: [qload/UnknownQuantizer] no quantizer named 'awq'"), r.err());
        assertTrue(r.err().contains("available:"), r.err());
    }

    @Test
    void corruptFileIsOneLineNamingTheFile(@TempDir Path tmp) throws Exception {
        Files.copy(testdata("tiny-llama").resolve("config.json"), tmp.resolve("config.json"));
        byte[] good = Files.readAllBytes(testdata("tiny-llama").resolve("model.safetensors"));
        Files.write(tmp.resolve("model.safetensors"), java.util.Arrays.copyOf(good, good.length - 100)); // truncated
        Result r = run("load", tmp.toString());
        assertEquals(Main.EXIT_BAD_INPUT, r.code());
        assertEquals(1, r.err().strip().lines().count(), r.err());
        assertTrue(r.err().contains("[qload/MetadataIncompleteBuffer]"), r.err());
        assertTrue(r.err().contains("model.safetensors"), r.err());
    }

    @Test
    void badDtypeOptionIsAClearError() {
        Result r = run("load", testdata("tiny-llama").toString(), "--dtype", "int3");
        assertEquals(Main.EXIT_BAD_INPUT, r.code());
        assertTrue(r.err().contains("--dtype int3"), r.err());
    }

    @Test
    void demoLoadsTheShippedModelAndComparesWithTheEagerBaseline() {
        Result r = run("demo");
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().contains("LOAD REPORT"), r.out());
        assertTrue(r.out().contains("recomputed on CPU"), r.out());
        assertTrue(r.out().contains("eager init"), r.out());
    }

    @Test
    void forwardWritesLogitsThatMatchThePyTorchReference(@TempDir Path tmp) {
        Path out = tmp.resolve("logits.safetensors");
        Result r = run("forward", testdata("tiny-llama").toString(), "--input-ids", "1,17,42,99,3,200,255", "--out", out.toString());
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().contains("top 5 at the last position"), r.out());
        try (var written = dev.qload.core.safetensors.SafetensorsFile.open(out);
             var ref = dev.qload.core.safetensors.SafetensorsFile.open(testdata("tiny-llama-reference").resolve("reference.safetensors"))) {
            assertEquals(java.util.Set.of("logits"), written.tensors().keySet());
            var logits = written.tensor("logits");
            assertEquals(dev.qload.core.tensor.DType.F32, logits.dtype());
            assertEquals(dev.qload.core.tensor.Shape.of(7, 256), logits.shape());
            float[] expected = ref.tensor("logits").toFloatArray(), actual = logits.toFloatArray();
            for (int i = 0; i < expected.length; i++) assertEquals(expected[i], actual[i], 1e-4f, "logit " + i);
        }
    }

    @Test
    void forwardRejectsATokenOutsideTheVocabulary() {
        Result r = run("forward", testdata("tiny-llama").toString(), "--input-ids", "1,256");
        assertEquals(Main.EXIT_BAD_INPUT, r.code());
        assertEquals(1, r.err().strip().lines().count(), r.err());
        assertTrue(r.err().startsWith("qload: [qload/InvalidInput] token id 256 is outside the vocabulary [0, 256)"), r.err());
    }

    @Test
    void reportReachesStdoutWithoutTheCallerFlushing() {
        // print() on an autoflush PrintWriter does not flush; Main must, or System.exit drops the report.
        var bytes = new java.io.ByteArrayOutputStream();
        int code = Main.run(new String[] {"load", testdata("tiny-llama").toString()}, new PrintWriter(bytes, true), new PrintWriter(new StringWriter()));
        assertEquals(0, code);
        assertTrue(bytes.toString().contains("LOAD REPORT"), bytes.toString());
    }
}
