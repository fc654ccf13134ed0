package dev.qload.examples.fp8;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.qload.core.config.Json;
import dev.qload.core.error.ConfigException;
import dev.qload.core.error.ErrorId;
import dev.qload.core.error.QLoadException;
import dev.qload.core.kernel.Kernels;
import dev.qload.core.load.LoadOptions;
import dev.qload.core.load.LoadedModel;
import dev.qload.core.load.ModelSaver;
import dev.qload.core.module.Module;
import dev.qload.core.nn.Linear;
import dev.qload.core.safetensors.SafetensorsFile;
import dev.qload.core.spi.QuantizerProvider;
import dev.qload.core.tensor.DType;
import dev.qload.core.tensor.Tensor;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.ServiceLoader;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import tools.jackson.databind.JsonNode;

/**
 * The tiny Llama of testdata/tiny-llama in HF's FP8 layout (14 decoder Linears quantized with
 * 128×128 tiles, all partial since hidden is 64): loaded pre-quantized, quantized on load, saved,
 * dequantized. The reference logits come from PyTorch on the dequantized weights in F32, which is
 * what Fp8Linear computes (weight-only, F32 activations), so the only differences are summation
 * order: the bound is the one the dense models use, 1e-4.
 */
class Fp8TinyLlamaTest {
    static final float TOLERANCE = 1e-4f;
    static final int QUANTIZED_LINEARS = 14;

    static Path preQuantized() {
        return Fp8Fixtures.file("tiny-llama-fp8");
    }

    static Path dense() {
        return Fp8Fixtures.file("tiny-llama");
    }

    static int count(Module root, Class<?> type) {
        return (int) root.namedModules().values().stream().filter(type::isInstance).count();
    }

    static void assertLogitsMatch(Module root, String what) {
        float[] reference = Fp8Fixtures.referenceLogits();
        for (Kernels k : new Kernels[] {Kernels.scalar(), Kernels.get()}) {
            float error = Fp8Fixtures.maxAbsError(reference, Fp8Fixtures.logits(root, k));
            System.out.printf("%-28s %-8s max |logit error| %.3g%n", what, k.name(), error);
            assertTrue(error <= TOLERANCE, what + " with " + k.name() + ": max abs logit error " + error);
        }
    }

    static LoadedModel quantizeOnLoad(Map<String, ?> fields) {
        return Fp8Fixtures.loader().load(dense(), LoadOptions.builder().quantize("fp8", fields).build());
    }

    @Test
    void theProviderIsFoundByServiceLoader() {
        boolean found = ServiceLoader.load(QuantizerProvider.class).stream()
                .anyMatch(p -> p.type() == Fp8QuantizerProvider.class);
        assertTrue(found, "META-INF/services does not register Fp8QuantizerProvider");
        assertEquals("fp8", new Fp8QuantizerProvider().name());
    }

    @Test
    void preQuantizedCheckpointLoadsZeroCopyAndMatchesTheReferenceLogits() {
        try (LoadedModel model = Fp8Fixtures.loader().load(preQuantized(), LoadOptions.defaults())) {
            var report = model.report();
            assertEquals("fp8", report.quantization());
            assertEquals(0, report.bytesRead(), "nothing converted or copied: " + report.toTable());
            assertTrue(report.missingKeys().isEmpty() && report.unexpectedKeys().isEmpty(), report.toTable());
            Module root = model.root();
            assertEquals(QUANTIZED_LINEARS, count(root, Fp8Linear.class));
            assertInstanceOf(Linear.class, root.find("lm_head"));
            Tensor w = root.slotAt("model.layers.0.mlp.down_proj.weight").get();
            assertEquals(DType.F8_E4M3, w.dtype());
            assertEquals(List.of(1L, 2L), List.of(root.slotAt("model.layers.0.mlp.down_proj.weight_scale_inv").get().shape().dims()[0],
                    root.slotAt("model.layers.0.mlp.down_proj.weight_scale_inv").get().shape().dims()[1]));
            assertLogitsMatch(root, "pre-quantized");
        }
    }

    @Test
    void quantizingTheDenseCheckpointOnLoadReproducesTheFixtureBytes(@TempDir Path tmp) throws IOException {
        try (LoadedModel model = quantizeOnLoad(Map.of());
             SafetensorsFile fixture = SafetensorsFile.open(preQuantized().resolve("model.safetensors"))) {
            assertEquals(QUANTIZED_LINEARS, count(model.root(), Fp8Linear.class));
            Map<String, Tensor> state = model.quantizer().orElseThrow().checkpointState(model.root());
            assertEquals(fixture.tensors().keySet(), state.keySet());
            for (var e : state.entrySet()) {
                Tensor expected = fixture.tensor(e.getKey());
                assertEquals(expected.dtype(), e.getValue().dtype(), e.getKey());
                assertEquals(expected.shape(), e.getValue().shape(), e.getKey());
                long at = expected.data().mismatch(e.getValue().data());
                assertEquals(-1, at, e.getKey() + " differs at byte " + at);
            }
            assertLogitsMatch(model.root(), "quantized on load");
            // Saved, it is the same file, byte for byte: same tensors, same safetensors writer conventions.
            ModelSaver.save(model, tmp, Long.MAX_VALUE);
            assertEquals(-1, Files.mismatch(preQuantized().resolve("model.safetensors"), tmp.resolve("model.safetensors")));
        }
    }

    @Test
    void saveThenLoadRoundTrips(@TempDir Path tmp) throws IOException {
        try (LoadedModel model = Fp8Fixtures.loader().load(preQuantized(), LoadOptions.defaults())) {
            ModelSaver.save(model, tmp, Long.MAX_VALUE);
        }
        JsonNode config = Json.STRICT.readTree(Files.readAllBytes(tmp.resolve("config.json")));
        JsonNode q = config.get("quantization_config");
        assertEquals("fp8", q.get("quant_method").asString());
        assertEquals("dynamic", q.get("activation_scheme").asString());
        assertEquals(128, q.get("weight_block_size").get(0).asInt());
        assertEquals(128, q.get("weight_block_size").get(1).asInt());
        assertTrue(q.get("modules_to_not_convert").isNull());
        try (LoadedModel again = Fp8Fixtures.loader().load(tmp, LoadOptions.defaults());
             SafetensorsFile fixture = SafetensorsFile.open(preQuantized().resolve("model.safetensors"))) {
            assertEquals(0, again.report().bytesRead());
            Map<String, Tensor> state = again.root().stateDict();
            for (String key : fixture.tensors().keySet()) {
                assertEquals(-1, fixture.tensor(key).data().mismatch(state.get(key).data()), key);
            }
            assertLogitsMatch(again.root(), "saved and reloaded");
        }
    }

    @Test
    void dequantizingGivesDenseLinearsWithTheSameLogits(@TempDir Path tmp) {
        try (LoadedModel model = Fp8Fixtures.loader().load(preQuantized(), LoadOptions.defaults())) {
            model.quantizer().orElseThrow().dequantize(model.root());
            assertEquals(0, count(model.root(), Fp8Linear.class));
            Tensor w = model.root().slotAt("model.layers.1.self_attn.q_proj.weight").get();
            assertEquals(DType.F32, w.dtype());
            assertLogitsMatch(model.root(), "dequantized");
            ModelSaver.saveDense(model, tmp, Long.MAX_VALUE);
        }
        try (LoadedModel dense = Fp8Fixtures.loader().load(tmp, LoadOptions.defaults())) {
            assertEquals("none", dense.report().quantization());
            assertLogitsMatch(dense.root(), "dequantized, saved dense");
        }
    }

    @Test
    void modulesToNotConvertStayDense() {
        try (LoadedModel model = quantizeOnLoad(Map.of("modules_to_not_convert", List.of("mlp.down_proj", "layers.*.self_attn.k_proj")))) {
            Module root = model.root();
            assertEquals(QUANTIZED_LINEARS - 4, count(root, Fp8Linear.class));
            assertInstanceOf(Linear.class, root.find("model.layers.1.mlp.down_proj"));
            assertInstanceOf(Linear.class, root.find("model.layers.0.self_attn.k_proj"));
            assertInstanceOf(Fp8Linear.class, root.find("model.layers.0.self_attn.q_proj"));
            assertEquals(List.of("mlp.down_proj", "layers.*.self_attn.k_proj"),
                    model.quantizer().orElseThrow().quantizationConfig().get("modules_to_not_convert"));
        }
    }

    @Test
    void aNonDefaultBlockSizeQuantizesWithItsOwnScaleGrid() {
        try (LoadedModel model = quantizeOnLoad(Map.of("weight_block_size", List.of(32, 16)))) {
            Tensor s = model.root().slotAt("model.layers.0.mlp.gate_proj.weight_scale_inv").get();
            assertEquals(6, s.shape().dim(0)); // ceil(172/32)
            assertEquals(4, s.shape().dim(1)); // 64/16
            float[] reference = Fp8Fixtures.referenceLogits(); // 128x128 tiles; finer ones stay close
            float error = Fp8Fixtures.maxAbsError(reference, Fp8Fixtures.logits(model.root(), Kernels.get()));
            assertTrue(error < 0.05f, "error " + error);
        }
    }

    @Test
    void badConfigsFailWithTheirReason() {
        QLoadException scheme = assertThrows(ConfigException.class, () -> quantizeOnLoad(Map.of("activation_scheme", "static")));
        assertTrue(scheme.getMessage().contains("activation_scheme 'static'"), scheme.getMessage());
        QLoadException block = assertThrows(ConfigException.class, () -> quantizeOnLoad(Map.of("weight_block_size", List.of(128))));
        assertEquals(ErrorId.CONFIG_WRONG_TYPE, block.id());
        QLoadException zero = assertThrows(ConfigException.class, () -> quantizeOnLoad(Map.of("weight_block_size", List.of(128, 0))));
        assertTrue(zero.getMessage().contains("positive"), zero.getMessage());
        QLoadException typo = assertThrows(ConfigException.class, () -> quantizeOnLoad(Map.of("weight_blocksize", List.of(64, 64))));
        assertTrue(typo.getMessage().contains("did you mean 'weight_block_size'"), typo.getMessage());
        QLoadException fmt = assertThrows(ConfigException.class, () -> quantizeOnLoad(Map.of("fmt", "e5m2")));
        assertTrue(fmt.getMessage().contains("e5m2"), fmt.getMessage());
    }

    @Test
    void aDenseCheckpointCannotBeLoadedAsPreQuantized(@TempDir Path tmp) throws IOException {
        // config.json says fp8, the weights are F32: name the module and the fix.
        Files.copy(dense().resolve("model.safetensors"), tmp.resolve("model.safetensors"));
        Files.copy(preQuantized().resolve("config.json"), tmp.resolve("config.json"));
        QLoadException e = assertThrows(QLoadException.class, () -> Fp8Fixtures.loader().load(tmp, LoadOptions.defaults()));
        assertEquals(ErrorId.UNSUPPORTED_QUANT_FORMAT, e.id());
        assertEquals(QUANTIZED_LINEARS, e.problems().size());
        assertTrue(e.getMessage().contains("modules_to_not_convert"), e.getMessage());
    }
}
