package dev.qload.quantizers.bnb;

import dev.qload.tests.CheckpointEdits;
import dev.qload.tests.LoadFailures;

import static dev.qload.tests.LoadFailures.problemFor;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.qload.core.QLoad;
import dev.qload.core.checkpoint.Checkpoint;
import dev.qload.core.checkpoint.CheckpointTensor;
import dev.qload.core.config.Json;
import dev.qload.core.error.ConfigException;
import dev.qload.core.error.ErrorId;
import dev.qload.core.error.Problem;
import dev.qload.core.error.QLoadException;
import dev.qload.core.kernel.Kernels;
import dev.qload.core.load.LoadOptions;
import dev.qload.core.load.LoadReport;
import dev.qload.core.load.LoadedModel;
import dev.qload.core.load.ModelSaver;
import dev.qload.core.module.Module;
import dev.qload.core.module.NamedSlot;
import dev.qload.core.module.TensorKind;
import dev.qload.core.nn.Embedding;
import dev.qload.core.nn.Linear;
import dev.qload.core.safetensors.SafetensorsFile;
import dev.qload.core.safetensors.TensorInfo;
import dev.qload.core.spi.Quantizer;
import dev.qload.core.tensor.DType;
import dev.qload.core.tensor.OffHeap;
import dev.qload.core.tensor.Shape;
import dev.qload.core.tensor.Tensor;
import dev.qload.models.llama.LlamaForCausalLM;
import dev.qload.models.llama.LlamaInference;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.ValueSource;
import tools.jackson.databind.JsonNode;

/**
 * Whole models through the bitsandbytes plugin: the pre-quantized fixtures of testdata/bnb (made
 * by tools/fixtures/bnb, an independent PyTorch port of bitsandbytes, from testdata/tiny-llama and
 * testdata/tiny-llama-sharded) loaded zero-copy and run against that port's logits; quantize on
 * load, save, reload and dequantize compared with those checkpoints byte for byte; hostile
 * checkpoints rejected with typed errors and nothing left allocated.
 */
class BnbModelTest {
    static final Map<String, Object> NF4_DOUBLE_QUANT = Map.of("load_in_4bit", true, "bnb_4bit_quant_type", "nf4", "bnb_4bit_use_double_quant", true);
    static final Map<String, Object> FP4 = Map.of("load_in_4bit", true, "bnb_4bit_quant_type", "fp4");
    static final Map<String, Object> INT8 = Map.of("load_in_8bit", true);

    /** The Linears bitsandbytes replaces in a Llama (everything but lm_head, by default). */
    static final Pattern QUANTIZED_LINEAR = Pattern.compile("model\\.layers\\.\\d+\\.(self_attn\\.[qkvo]_proj|mlp\\.(gate|up|down)_proj)");
    /** A checkpoint key that belongs to one of those Linears. */
    static final Pattern QUANTIZED_LINEAR_KEY = Pattern.compile("^(" + QUANTIZED_LINEAR.pattern() + ")\\..+");
    static final int LINEARS = 14; // 2 layers × q, k, v, o, gate, up, down

    /**
     * Logits bound against the PyTorch port: both sides run the F32 forward on the same F32 weight
     * values (4-bit: the port's `code·absmax` equals qload's on-the-fly block decode bit for bit, as
     * BnbFormatTest proves per vector; int8: the integer product is exact and only the F32 rescale
     * and the outlier addmm differ in order). What is left is F32 summation order and FMA in dot
     * products of length ≤ 172 on O(1) logits: a few ulps, far below 1e-4, while the quantization
     * error itself is 6e-2 (nf4), 1e-1 (fp4), 6e-3 (int8), and a wrong int8 outlier split 8.7e-3.
     */
    static final float LOGIT_TOLERANCE = 1e-4f;

    // ------------------------------------------------------------------ helpers

    static Path testdata(String name) {
        return BnbFixtures.root().resolve(name);
    }

    static float[] reference(String fixture, String tensor) {
        try (SafetensorsFile ref = SafetensorsFile.open(BnbFixtures.bnb(fixture + "-reference").resolve("reference.safetensors"))) {
            return ref.tensor(tensor).toFloatArray();
        }
    }

    static int[] inputIds(String fixture) {
        float[] ids = reference(fixture, "input_ids");
        int[] out = new int[ids.length];
        for (int i = 0; i < ids.length; i++) out[i] = (int) ids[i];
        return out;
    }

    static float[] logits(LoadedModel model, int[] ids, Kernels kernels) {
        return new LlamaInference((LlamaForCausalLM) model.root(), kernels, 64).forward(ids);
    }

    static float maxAbsError(float[] expected, float[] actual) {
        assertEquals(expected.length, actual.length, "logit count");
        float max = 0;
        for (int i = 0; i < expected.length; i++) {
            float d = Math.abs(expected[i] - actual[i]);
            if (Float.isNaN(d)) return Float.NaN;
            max = Math.max(max, d);
        }
        return max;
    }

    static void assertWithin(float bound, float error, String what) {
        assertTrue(error <= bound, what + ": max |Δ| " + error + " exceeds " + bound); // false for NaN too
    }

    static LoadOptions quantize(Map<String, ?> fields) {
        return LoadOptions.builder().quantize("bitsandbytes", fields).build();
    }

    static boolean consumedMetadata(String key) {
        return key.contains(".weight.quant_state.bitsandbytes__") || key.endsWith(".weight_format");
    }

    /** Every tensor of a checkpoint directory (single file or shards), as views of the open mapping. */
    static Map<String, Tensor> tensors(Checkpoint checkpoint) {
        Map<String, Tensor> out = new LinkedHashMap<>();
        for (CheckpointTensor t : checkpoint.tensors().values()) out.put(t.name(), t.view());
        return out;
    }

    /** What ModelSaver writes: a tensor tied to one seen before (lm_head → embed_tokens) is left out. */
    static Map<String, Tensor> distinct(Map<String, Tensor> state) {
        Map<String, Tensor> out = new LinkedHashMap<>();
        Set<Tensor> seen = Collections.newSetFromMap(new IdentityHashMap<>());
        for (var e : state.entrySet()) if (seen.add(e.getValue())) out.put(e.getKey(), e.getValue());
        return out;
    }

    static void assertSameTensors(Map<String, Tensor> expected, Map<String, Tensor> actual, String what) {
        assertEquals(new TreeSet<>(expected.keySet()), new TreeSet<>(actual.keySet()), what + ": key set");
        for (var e : expected.entrySet()) {
            Tensor x = e.getValue(), a = actual.get(e.getKey());
            assertEquals(x.dtype(), a.dtype(), what + ": dtype of " + e.getKey());
            assertEquals(x.shape(), a.shape(), what + ": shape of " + e.getKey());
            long at = x.data().mismatch(a.data());
            assertEquals(-1, at, what + ": " + e.getKey() + " differs at byte " + at);
        }
    }

    static long nonPersistentBufferBytes(Module root) {
        Set<Tensor> seen = Collections.newSetFromMap(new IdentityHashMap<>());
        long bytes = 0;
        for (NamedSlot ns : root.namedSlots()) {
            if (ns.slot().kind() == TensorKind.NON_PERSISTENT_BUFFER && seen.add(ns.slot().get())) bytes += ns.slot().get().byteSize();
        }
        return bytes;
    }

    static JsonNode json(Path file) {
        try {
            return Json.STRICT.readTree(Files.readAllBytes(file));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    static int quantizedLinears(Module root, Class<? extends Module> type) {
        int n = 0;
        for (var e : root.namedModules().entrySet()) {
            if (QUANTIZED_LINEAR.matcher(e.getKey()).matches()) {
                assertInstanceOf(type, e.getValue(), e.getKey());
                n++;
            } else {
                assertFalse(e.getValue() instanceof Linear4bit || e.getValue() instanceof Linear8bitLt, e.getKey() + " must stay dense");
            }
        }
        return n;
    }

    // ------------------------------------------------------------------ 1. pre-quantized, zero-copy

    static Stream<String> preQuantized() {
        return Stream.of("tiny-llama-nf4", "tiny-llama-fp4", "tiny-llama-int8", "tiny-llama-int8-outliers", "tiny-llama-sharded-nf4");
    }

    @ParameterizedTest
    @MethodSource("preQuantized")
    void preQuantizedCheckpointLandsZeroCopyInQuantizedModules(String name) {
        Path dir = BnbFixtures.bnb(name);
        boolean fourBit = !name.contains("int8");
        long total = 0, consumed = 0;
        int consumedTensors = 0;
        try (Checkpoint checkpoint = Checkpoint.open(dir)) {
            for (CheckpointTensor t : checkpoint.tensors().values()) {
                total += t.info().byteLength();
                if (consumedMetadata(t.name())) {
                    consumed += t.info().byteLength();
                    consumedTensors++;
                }
            }
        }
        // The quant-state JSON (4-bit) or weight_format scalar (int8) of each Linear is read at replacement and not loaded.
        assertEquals(LINEARS, consumedTensors, name + ": one consumed metadata tensor per quantized Linear");
        try (LoadedModel model = QLoad.load(dir, LoadOptions.defaults())) {
            LoadReport report = model.report();
            Module root = model.root();
            assertEquals("bitsandbytes", report.quantization());
            assertEquals(0, report.bytesRead(), name + ": bytes read into copies");
            assertEquals(total - consumed, report.bytesMapped(), name + ": every tensor but the consumed metadata is mapped");
            assertEquals(List.of(), report.unexpectedKeys(), name + ": consumed metadata is not 'unexpected'");
            assertEquals(List.of(), report.missingKeys(), name);
            // Only the rotary inv_freq (non-persistent, recomputed) is allocated.
            assertEquals(nonPersistentBufferBytes(root), report.bytesAllocated(), name + ": bytes allocated");
            assertEquals(LINEARS, quantizedLinears(root, fourBit ? Linear4bit.class : Linear8bitLt.class), name);
            assertEquals(Linear.class, root.find("lm_head").getClass(), "lm_head stays a dense core Linear");
            assertEquals(Embedding.class, root.find("model.embed_tokens").getClass(), "embed_tokens stays a dense core Embedding");
            for (NamedSlot ns : root.namedSlots()) assertFalse(ns.slot().get().isMeta(), name + ": " + ns.path() + " left on META");
            if (name.contains("sharded")) {
                assertSame(root.slotAt("model.embed_tokens.weight").get(), root.slotAt("lm_head.weight").get(), "tied lm_head");
            }
            if (fourBit) {
                QuantState s = ((Linear4bit) root.find("model.layers.1.mlp.down_proj")).state();
                assertEquals(name.contains("fp4") ? QuantType.FP4 : QuantType.NF4, s.quantType());
                assertEquals(!name.contains("fp4"), s.nested(), "double quant");
                assertEquals(64, s.blocksize());
                assertEquals(name.contains("sharded") ? DType.BF16 : DType.F32, s.dtype(), "quant-state dtype");
                assertEquals(64, s.out(), "down_proj out");
                assertEquals(172, s.in(), "down_proj in");
            }
        }
    }

    // ------------------------------------------------------------------ 2. logits against the PyTorch port

    @ParameterizedTest
    @MethodSource("preQuantized")
    void logitsMatchTheBitsandbytesReference(String name) {
        boolean int8 = name.contains("int8");
        String expectedTensor = int8 ? "logits_int8_mixed" : "logits_dequantized";
        float[] expected = reference(name, expectedTensor);
        int[] ids = inputIds(name);
        try (LoadedModel model = QLoad.load(BnbFixtures.bnb(name))) {
            for (Kernels kernels : new Kernels[] {Kernels.scalar(), Kernels.get()}) {
                float[] actual = logits(model, ids, kernels);
                float error = maxAbsError(expected, actual);
                System.out.printf("%-26s %-8s vs %-20s max |logit error| %.3g%n", name, kernels.name(), expectedTensor, error);
                assertWithin(LOGIT_TOLERANCE, error, name + " (" + kernels.name() + ") vs " + expectedTensor);
                if (name.equals("tiny-llama-int8-outliers")) {
                    // The outlier split is really exercised: without it the logits would be the no-threshold ones, 8.7e-3 away.
                    float noSplit = maxAbsError(reference(name, "logits_int8_nothreshold"), actual);
                    assertTrue(noSplit > 1e-3f, "outliers fixture: qload's logits are " + noSplit + " from the no-threshold reference");
                }
            }
        }
    }

    // ------------------------------------------------------------------ 3. quantize on load = bitsandbytes, bit for bit

    static Stream<Arguments> quantizeOnLoadCases() {
        return Stream.of(
                Arguments.of("tiny-llama", NF4_DOUBLE_QUANT, "tiny-llama-nf4"),
                Arguments.of("tiny-llama", FP4, "tiny-llama-fp4"),
                Arguments.of("tiny-llama", INT8, "tiny-llama-int8"),
                Arguments.of("tiny-llama-sharded", NF4_DOUBLE_QUANT, "tiny-llama-sharded-nf4"));
    }

    @ParameterizedTest
    @MethodSource("quantizeOnLoadCases")
    void quantizeOnLoadReproducesTheBitsandbytesCheckpointBitForBit(String source, Map<String, Object> fields, String fixture) {
        JsonNode fixtureQuantization = json(BnbFixtures.bnb(fixture).resolve("config.json")).get("quantization_config");
        for (var f : fields.entrySet()) { // the fields used are those the fixture was made with
            assertEquals(Json.STRICT.valueToTree(f.getValue()), fixtureQuantization.get(f.getKey()), fixture + " config field " + f.getKey());
        }
        try (LoadedModel model = QLoad.load(testdata(source), quantize(fields));
             Checkpoint expected = Checkpoint.open(BnbFixtures.bnb(fixture))) {
            Quantizer quantizer = model.quantizer().orElseThrow();
            Map<String, Tensor> state = quantizer.checkpointState(model.root());
            if (source.contains("sharded")) {
                // tie_word_embeddings: lm_head.weight is embed_tokens.weight, which save_pretrained writes once.
                assertSame(state.get("model.embed_tokens.weight"), state.get("lm_head.weight"));
                assertFalse(expected.tensors().containsKey("lm_head.weight"));
            }
            assertSameTensors(tensors(expected), distinct(state), source + " quantized on load vs " + fixture);
            assertEquals(fixtureQuantization, Json.STRICT.valueToTree(quantizer.quantizationConfig()), "quantization_config as saved");
        }
    }

    @Test
    void quantizingABf16CheckpointOnLoadAllocatesOnlyThePackedWeights() {
        Path source = testdata("tiny-llama-sharded");
        long denseLinearBytes = 0, otherSourceBytes = 0, packedBytes = 0, scratchAbsmax = 0;
        try (Checkpoint dense = Checkpoint.open(source); Checkpoint packed = Checkpoint.open(BnbFixtures.bnb("tiny-llama-sharded-nf4"))) {
            for (CheckpointTensor t : dense.tensors().values()) {
                if (QUANTIZED_LINEAR_KEY.matcher(t.name()).matches()) {
                    assertEquals(DType.BF16, t.info().dtype());
                    denseLinearBytes += t.info().byteLength();
                    scratchAbsmax += 4 * ((t.info().shape().elementCount() + 63) / 64); // the F32 absmax before nesting
                } else {
                    otherSourceBytes += t.info().byteLength();
                }
            }
            // Everything the bitsandbytes checkpoint holds for the quantized Linears, but their quant-state JSON.
            for (CheckpointTensor t : packed.tensors().values()) {
                if (QUANTIZED_LINEAR_KEY.matcher(t.name()).matches() && !consumedMetadata(t.name())) packedBytes += t.info().byteLength();
            }
        }
        assertEquals(181_248, denseLinearBytes, "14 BF16 Linears of tiny-llama-sharded");
        try (LoadedModel model = QLoad.load(source, quantize(NF4_DOUBLE_QUANT))) {
            LoadReport report = model.report();
            long inFreq = nonPersistentBufferBytes(model.root());
            // Dense BF16 tensors of the model's own dtype are mapped, never copied; only the quantized slots are allocated.
            assertEquals(packedBytes + inFreq, report.bytesAllocated(), "bytes allocated: packed weights, absmax, maps, inv_freq");
            assertEquals(otherSourceBytes, report.bytesMapped(), "embeddings and norms stay mapped");
            assertEquals(denseLinearBytes, report.bytesRead(), "each dense Linear weight is read once, by its quantize kernel");
            assertEquals(List.of(), report.unexpectedKeys());
            assertEquals(List.of(), report.missingKeys());
            assertTrue(report.bytesAllocated() * 2 < denseLinearBytes, report.bytesAllocated() + " allocated for " + denseLinearBytes + " dense bytes");
            assertTrue(report.peakOffheapBytes() <= report.bytesAllocated() + scratchAbsmax,
                    "peak off-heap " + report.peakOffheapBytes() + " > allocation " + report.bytesAllocated() + " + absmax scratch " + scratchAbsmax);
            System.out.printf("tiny-llama-sharded → nf4 on load: %d B allocated (dense Linears %d B), peak %d B, mapped %d B%n",
                    report.bytesAllocated(), denseLinearBytes, report.peakOffheapBytes(), report.bytesMapped());
        }
    }

    // ------------------------------------------------------------------ 4. save → load

    static Stream<Arguments> saveCases() {
        return Stream.of(Arguments.of(NF4_DOUBLE_QUANT, "tiny-llama-nf4"), Arguments.of(FP4, "tiny-llama-fp4"), Arguments.of(INT8, "tiny-llama-int8"));
    }

    @ParameterizedTest
    @MethodSource("saveCases")
    void savingAQuantizeOnLoadWritesTheBitsandbytesFileAndReloadsIdentically(Map<String, Object> fields, String fixture, @TempDir Path tmp) throws IOException {
        Path saved = tmp.resolve("saved");
        try (LoadedModel model = QLoad.load(testdata("tiny-llama"), quantize(fields))) {
            List<Path> written = ModelSaver.save(model, saved, Long.MAX_VALUE);
            assertEquals(Set.of(saved.resolve("model.safetensors"), saved.resolve("config.json")), Set.copyOf(written));
            assertEquals(-1, Files.mismatch(BnbFixtures.bnb(fixture).resolve("model.safetensors"), saved.resolve("model.safetensors")),
                    "saved model.safetensors vs " + fixture);
            assertEquals(json(BnbFixtures.bnb(fixture).resolve("config.json")), json(saved.resolve("config.json")), "saved config.json vs " + fixture);

            try (LoadedModel reloaded = QLoad.load(saved)) { // pre-quantized path: config.json declares quantization_config
                assertEquals(0, reloaded.report().bytesRead(), "the reload converts nothing");
                assertEquals(LINEARS, quantizedLinears(reloaded.root(), fields.containsKey("load_in_8bit") ? Linear8bitLt.class : Linear4bit.class));
                assertSameTensors(model.root().stateDict(), reloaded.root().stateDict(), "reloaded state dict");
                assertSameTensors(model.quantizer().orElseThrow().checkpointState(model.root()),
                        reloaded.quantizer().orElseThrow().checkpointState(reloaded.root()), "reloaded checkpoint state");
                int[] ids = inputIds(fixture);
                assertArrayEquals(logits(model, ids, Kernels.get()), logits(reloaded, ids, Kernels.get()), 0f, "logits after reload");
            }
        }
    }

    // ------------------------------------------------------------------ 5. dequantize

    @Test
    void dequantizedNf4ModelKeepsItsLogitsAndSavesUnderTheDenseKeys(@TempDir Path tmp) {
        String fixture = "tiny-llama-nf4";
        int[] ids = inputIds(fixture);
        Path saved = tmp.resolve("dense");
        float[] dense;
        try (LoadedModel model = QLoad.load(BnbFixtures.bnb(fixture))) {
            Module root = model.root();
            float[] quantized = logits(model, ids, Kernels.get());
            model.quantizer().orElseThrow().dequantize(root);
            for (var e : root.namedModules().entrySet()) {
                assertFalse(e.getValue() instanceof Linear4bit, e.getKey() + " still quantized");
                if (QUANTIZED_LINEAR.matcher(e.getKey()).matches()) {
                    assertEquals(Linear.class, e.getValue().getClass(), e.getKey());
                    assertEquals(DType.F32, ((Linear) e.getValue()).weight().dtype(), e.getKey() + ": the quant state's dtype");
                }
            }
            dense = logits(model, ids, Kernels.get());
            float vsQuantized = maxAbsError(quantized, dense), vsReference = maxAbsError(reference(fixture, "logits_dequantized"), dense);
            System.out.printf("%-26s dequantized: vs quantized forward %.3g, vs logits_dequantized %.3g%n", fixture, vsQuantized, vsReference);
            // Same F32 weight values either way; only the dot product's blocking differs.
            assertWithin(1e-5f, vsQuantized, "dense vs quantized forward");
            assertWithin(LOGIT_TOLERANCE, vsReference, "dense vs logits_dequantized");

            ModelSaver.saveDense(model, saved, Long.MAX_VALUE);
        }
        try (SafetensorsFile original = SafetensorsFile.open(testdata("tiny-llama").resolve("model.safetensors"));
             SafetensorsFile written = SafetensorsFile.open(saved.resolve("model.safetensors"))) {
            assertEquals(new TreeSet<>(original.tensors().keySet()), new TreeSet<>(written.tensors().keySet()), "dense key names");
            for (TensorInfo t : original.tensors().values()) {
                assertEquals(t.dtype(), written.info(t.name()).dtype(), t.name());
                assertEquals(t.shape(), written.info(t.name()).shape(), t.name());
            }
        }
        JsonNode config = json(saved.resolve("config.json"));
        assertFalse(config.has("quantization_config"), "a dense save declares no quantization");
        assertEquals(json(testdata("tiny-llama").resolve("config.json")), config, "the dense config is tiny-llama's");
        try (LoadedModel reloaded = QLoad.load(saved)) {
            assertTrue(reloaded.quantizer().isEmpty());
            assertEquals("none", reloaded.report().quantization());
            assertArrayEquals(dense, logits(reloaded, ids, Kernels.get()), 0f, "logits of the reloaded dense model");
        }
    }

    static Stream<Arguments> dequantizeCases() {
        return Stream.of(
                Arguments.of("tiny-llama-fp4", "logits_dequantized", DType.F32),
                Arguments.of("tiny-llama-int8", "logits_dequantized", DType.F32),
                Arguments.of("tiny-llama-int8-outliers", "logits_dequantized", DType.F32),
                // bnb's dequantize_4bit returns the quant state's dtype: BF16 weights, i.e. the "rounded" reference.
                Arguments.of("tiny-llama-sharded-nf4", "logits_dequantized_rounded", DType.BF16));
    }

    @ParameterizedTest
    @MethodSource("dequantizeCases")
    void dequantizedModelMatchesTheDequantizedReference(String fixture, String referenceTensor, DType weightDtype) {
        try (LoadedModel model = QLoad.load(BnbFixtures.bnb(fixture))) {
            model.quantizer().orElseThrow().dequantize(model.root());
            for (var e : model.root().namedModules().entrySet()) {
                if (QUANTIZED_LINEAR.matcher(e.getKey()).matches()) {
                    assertEquals(Linear.class, e.getValue().getClass(), e.getKey());
                    assertEquals(weightDtype, ((Linear) e.getValue()).weight().dtype(), e.getKey());
                }
            }
            float error = maxAbsError(reference(fixture, referenceTensor), logits(model, inputIds(fixture), Kernels.get()));
            System.out.printf("%-26s dequantized vs %-26s max |logit error| %.3g%n", fixture, referenceTensor, error);
            assertWithin(LOGIT_TOLERANCE, error, fixture + " dequantized vs " + referenceTensor);
        }
    }

    // ------------------------------------------------------------------ 6. llm_int8_skip_modules

    @ParameterizedTest
    @ValueSource(strings = {"nf4", "int8"})
    void skipModulesKeepTheMlpDenseAndQuantizeAttention(String mode) {
        Map<String, Object> fields = new LinkedHashMap<>(mode.equals("nf4") ? NF4_DOUBLE_QUANT : INT8);
        fields.put("llm_int8_skip_modules", List.of("mlp", "lm_head"));
        Class<? extends Module> quantized = mode.equals("nf4") ? Linear4bit.class : Linear8bitLt.class;
        try (LoadedModel model = QLoad.load(testdata("tiny-llama"), quantize(fields));
             SafetensorsFile source = SafetensorsFile.open(testdata("tiny-llama").resolve("model.safetensors"))) {
            Module root = model.root();
            int attention = 0, mlp = 0;
            for (var e : root.namedModules().entrySet()) {
                String path = e.getKey();
                if (path.matches("model\\.layers\\.\\d+\\.self_attn\\.[qkvo]_proj")) {
                    assertInstanceOf(quantized, e.getValue(), path);
                    attention++;
                } else if (path.matches("model\\.layers\\.\\d+\\.mlp\\..+")) {
                    assertEquals(Linear.class, e.getValue().getClass(), path + " must stay a dense Linear");
                    Tensor w = ((Linear) e.getValue()).weight();
                    assertEquals(-1, w.data().mismatch(source.tensor(path + ".weight").data()), path + ".weight as in the checkpoint");
                    mlp++;
                } else {
                    assertFalse(quantized.isInstance(e.getValue()), path + " must not be quantized");
                }
            }
            assertEquals(8, attention, "q/k/v/o in 2 layers");
            assertEquals(6, mlp, "gate/up/down in 2 layers");
            assertEquals(Linear.class, root.find("lm_head").getClass());
            Quantizer quantizer = model.quantizer().orElseThrow();
            assertEquals(List.of("mlp", "lm_head"), quantizer.quantizationConfig().get("llm_int8_skip_modules"));
            Map<String, Tensor> state = quantizer.checkpointState(root);
            assertEquals(DType.F32, state.get("model.layers.0.mlp.down_proj.weight").dtype(), "saved dense");
            assertTrue(state.keySet().stream().noneMatch(k -> k.contains(".mlp.") && consumedMetadata(k)), "no quant metadata for the mlp");
            assertTrue(state.keySet().stream().anyMatch(k -> k.startsWith("model.layers.0.self_attn.q_proj.") && consumedMetadata(k)));
        }
    }

    // ------------------------------------------------------------------ 7. hostile checkpoints



    static Tensor bytes(byte[] b) {
        Tensor t = Tensor.allocate(Shape.of(b.length), DType.U8, Arena.ofAuto());
        MemorySegment.copy(b, 0, t.data(), ValueLayout.JAVA_BYTE, 0, b.length);
        return t;
    }

    static String text(Tensor t) {
        return new String(t.data().toArray(ValueLayout.JAVA_BYTE), StandardCharsets.UTF_8);
    }

    /** Edits the quant-state JSON of {@code key}, insisting the edit changed something. */
    static Consumer<Map<String, Tensor>> editJson(String key, String from, String to) {
        return tensors -> {
            String json = text(tensors.get(key));
            String edited = json.replace(from, to);
            assertNotEquals(json, edited, "the fixture's JSON " + json + " has no " + from);
            tensors.put(key, bytes(edited.getBytes(StandardCharsets.UTF_8)));
        };
    }

    /** The load fails with a typed error, and off-heap memory is exactly as before. */
    static <E extends QLoadException> E failsCleanly(Class<E> type, Path dir, LoadOptions options) {
        return LoadFailures.failsCleanly(type, () -> QLoad.load(dir, options).close());
    }

    static final String Q_PROJ = "model.layers.0.self_attn.q_proj";
    static final String NF4_STATE = Q_PROJ + ".weight.quant_state.bitsandbytes__nf4";

    @Test
    void missingQuantStateIsInvalidQuantStateNamingIt(@TempDir Path tmp) {
        Path dir = CheckpointEdits.rewrite(BnbFixtures.bnb("tiny-llama-nf4"), tmp.resolve("ck"), t -> assertNotNull(t.remove(NF4_STATE)));
        QLoadException e = failsCleanly(QLoadException.class, dir, LoadOptions.defaults());
        problemFor(e, ErrorId.INVALID_QUANT_STATE, NF4_STATE);
    }

    @Test
    void quantStateShapeDisagreeingWithTheLinearIsInvalidQuantState(@TempDir Path tmp) {
        Path dir = CheckpointEdits.rewrite(BnbFixtures.bnb("tiny-llama-nf4"), tmp.resolve("ck"), editJson(NF4_STATE, "\"shape\": [64, 64]", "\"shape\": [64, 65]"));
        QLoadException e = failsCleanly(QLoadException.class, dir, LoadOptions.defaults());
        Problem p = problemFor(e, ErrorId.INVALID_QUANT_STATE, NF4_STATE);
        assertTrue(p.message().contains("[64,65]") || p.message().contains("[64, 65]"), p.message());
    }

    @Test
    void unknownQuantTypeInTheStateIsInvalidQuantState(@TempDir Path tmp) {
        Path dir = CheckpointEdits.rewrite(BnbFixtures.bnb("tiny-llama-nf4"), tmp.resolve("ck"), editJson(NF4_STATE, "\"quant_type\": \"nf4\"", "\"quant_type\": \"nf5\""));
        QLoadException e = failsCleanly(QLoadException.class, dir, LoadOptions.defaults());
        Problem p = problemFor(e, ErrorId.INVALID_QUANT_STATE, NF4_STATE);
        assertTrue(p.message().contains("nf5"), p.message());
    }

    @Test
    void absmaxOfTheWrongLengthIsAShapeMismatchNamingIt(@TempDir Path tmp) {
        String absmax = Q_PROJ + ".weight.absmax";
        Path dir = CheckpointEdits.rewrite(BnbFixtures.bnb("tiny-llama-nf4"), tmp.resolve("ck"), t -> {
            Tensor full = t.get(absmax);
            assertEquals(Shape.of(64), full.shape());
            t.put(absmax, CheckpointEdits.heapCopy(full.narrow(0, 63)));
        });
        QLoadException e = failsCleanly(QLoadException.class, dir, LoadOptions.defaults());
        problemFor(e, ErrorId.TENSOR_SHAPE_MISMATCH, absmax);
        assertEquals(1, e.problems().size(), "only the absmax is wrong (it is not also reported missing): " + e.getMessage());
    }

    @Test
    void int8WeightFormatOtherThanRowIsUnsupported(@TempDir Path tmp) {
        String format = Q_PROJ + ".weight_format";
        Path dir = CheckpointEdits.rewrite(BnbFixtures.bnb("tiny-llama-int8"), tmp.resolve("ck"), t -> {
            Tensor one = Tensor.allocate(Shape.of(), DType.U8, Arena.ofAuto());
            one.data().set(ValueLayout.JAVA_BYTE, 0, (byte) 1);
            assertNotNull(t.put(format, one));
        });
        QLoadException e = failsCleanly(QLoadException.class, dir, LoadOptions.defaults());
        problemFor(e, ErrorId.UNSUPPORTED_QUANT_FORMAT, format);
    }

    @Test
    void int8CheckpointWithoutScbIsInvalidQuantState(@TempDir Path tmp) {
        String scb = "model.layers.1.mlp.down_proj.SCB";
        Path dir = CheckpointEdits.rewrite(BnbFixtures.bnb("tiny-llama-int8"), tmp.resolve("ck"), t -> assertNotNull(t.remove(scb)));
        QLoadException e = failsCleanly(QLoadException.class, dir, LoadOptions.defaults());
        problemFor(e, ErrorId.INVALID_QUANT_STATE, scb);
    }

    @Test
    void unknownQuantTypeForQuantizeOnLoadIsAConfigError() {
        Map<String, Object> fields = Map.of("load_in_4bit", true, "bnb_4bit_quant_type", "nf5");
        ConfigException e = failsCleanly(ConfigException.class, testdata("tiny-llama"), quantize(fields));
        assertEquals(ErrorId.CONFIG_INVALID, e.id());
        assertTrue(e.getMessage().contains("nf5"), e.getMessage());
    }

    // ------------------------------------------------------------------ 8. concurrency

    @Test
    void concurrentLoadsGiveIdenticalLogits() throws Exception {
        String fixture = "tiny-llama-nf4";
        int[] ids = inputIds(fixture);
        CyclicBarrier start = new CyclicBarrier(2);
        List<Future<float[]>> results = new ArrayList<>();
        try (ExecutorService pool = Executors.newFixedThreadPool(2)) {
            for (int i = 0; i < 2; i++) {
                results.add(pool.submit(() -> {
                    start.await(10, TimeUnit.SECONDS);
                    try (LoadedModel model = QLoad.load(BnbFixtures.bnb(fixture))) {
                        return logits(model, ids, Kernels.get());
                    }
                }));
            }
            float[] a = results.get(0).get(30, TimeUnit.SECONDS), b = results.get(1).get(30, TimeUnit.SECONDS);
            assertArrayEquals(a, b, 0f, "logits of two concurrent loads");
            assertWithin(LOGIT_TOLERANCE, maxAbsError(reference(fixture, "logits_dequantized"), a), "concurrent load vs reference");
        }
    }

    @Test
    void concurrentQuantizeOnLoadsGiveTheBitsandbytesBytes() throws Exception {
        CyclicBarrier start = new CyclicBarrier(2);
        List<Future<Void>> results = new ArrayList<>();
        try (ExecutorService pool = Executors.newFixedThreadPool(2);
             Checkpoint expected = Checkpoint.open(BnbFixtures.bnb("tiny-llama-nf4"))) {
            Map<String, Tensor> fixture = tensors(expected);
            for (int i = 0; i < 2; i++) {
                results.add(pool.submit(() -> {
                    start.await(10, TimeUnit.SECONDS);
                    try (LoadedModel model = QLoad.load(testdata("tiny-llama"), quantize(NF4_DOUBLE_QUANT))) {
                        assertSameTensors(fixture, model.quantizer().orElseThrow().checkpointState(model.root()), "concurrent quantize on load");
                    }
                    return null;
                }));
            }
            for (Future<Void> f : results) f.get(30, TimeUnit.SECONDS);
        }
    }
}
