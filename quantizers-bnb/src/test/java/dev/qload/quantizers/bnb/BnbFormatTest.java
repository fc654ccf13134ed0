package dev.qload.quantizers.bnb;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.qload.core.safetensors.SafetensorsFile;
import dev.qload.core.tensor.DType;
import dev.qload.core.tensor.Tensor;
import java.lang.foreign.Arena;
import java.lang.foreign.ValueLayout;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import tools.jackson.databind.JsonNode;

/** qload's bitsandbytes codes, scales, nesting, JSON and int8 against the independent PyTorch port, bit for bit. */
class BnbFormatTest {

    static Stream<String> fourBitCases() {
        List<String> files = new ArrayList<>();
        for (JsonNode c : BnbFixtures.index().get("vectors_4bit")) files.add(c.get("file").asString());
        return files.stream();
    }

    static Stream<String> int8Cases() throws Exception {
        try (var s = java.nio.file.Files.list(BnbFixtures.bnb(""))) {
            return s.map(p -> p.getFileName().toString()).filter(n -> n.startsWith("int8-") && n.endsWith(".safetensors")).sorted().toList().stream();
        }
    }

    static JsonNode caseOf(String file) {
        for (JsonNode c : BnbFixtures.index().get("vectors_4bit")) if (c.get("file").asString().equals(file)) return c;
        throw new IllegalArgumentException(file);
    }

    static void assertBytesEqual(Tensor expected, Tensor actual, String what) {
        assertEquals(expected.byteSize(), actual.byteSize(), what + " size");
        long at = expected.data().mismatch(actual.data());
        assertEquals(-1, at, what + " differs at byte " + at);
    }

    @ParameterizedTest
    @MethodSource("fourBitCases")
    void quantizingTheDenseWeightGivesBitsandbytesBytes(String file) {
        JsonNode c = caseOf(file);
        QuantType type = QuantType.parse(c.get("quant_type").asString());
        long out = c.get("shape").get(0).asLong(), in = c.get("shape").get(1).asLong();
        boolean nested = c.get("nested").asBoolean();
        try (SafetensorsFile f = SafetensorsFile.open(BnbFixtures.bnb(file))) {
            Tensor dense = f.tensor("weight");
            QuantState state = new QuantState(type, c.get("blocksize").asInt(), dense.dtype(), out, in, nested, Double.NaN);
            Linear4bit module = new Linear4bit(state, false, DType.F32, DType.U8);
            Map<String, Tensor> targets = new LinkedHashMap<>();
            for (String name : module.quantizedSlots()) {
                Tensor meta = module.slot(name).get();
                targets.put(name, Tensor.allocate(meta.shape(), meta.dtype(), Arena.ofAuto()));
            }
            module.quantizeFrom(dense, targets);
            for (String name : module.quantizedSlots()) assertBytesEqual(f.tensor("q." + name), targets.get(name), file + " " + name);
            String key = "q.weight." + QuantState.keySuffix(type);
            String expectedJson = new String(f.tensor(key).data().toArray(ValueLayout.JAVA_BYTE), StandardCharsets.UTF_8);
            assertEquals(expectedJson, new String(module.state().toJson(), StandardCharsets.UTF_8), file + " quant-state JSON");
        }
    }

    @ParameterizedTest
    @MethodSource("fourBitCases")
    void dequantizingTheStoredBytesGivesBitsandbytesValues(String file) {
        JsonNode c = caseOf(file);
        QuantType type = QuantType.parse(c.get("quant_type").asString());
        long out = c.get("shape").get(0).asLong(), in = c.get("shape").get(1).asLong();
        try (SafetensorsFile f = SafetensorsFile.open(BnbFixtures.bnb(file))) {
            String key = "q.weight." + QuantState.keySuffix(type);
            QuantState state = QuantState.parse(f.tensor(key).data().toArray(ValueLayout.JAVA_BYTE), key, type, out, in);
            Linear4bit module = new Linear4bit(state, false, DType.F32, DType.U8);
            for (String name : module.quantizedSlots()) module.slot(name).set(f.tensor("q." + name));
            float[] expected = f.tensor("dequantized").toFloatArray();
            float[] actual = module.dequantize();
            for (int i = 0; i < expected.length; i++) {
                assertEquals(Float.floatToIntBits(expected[i]), Float.floatToIntBits(actual[i]), file + " element " + i + ": " + expected[i] + " vs " + actual[i]);
            }
        }
    }

    @Test
    void dynamicMapIsTheDocumentedConstructionToWithinOneUlp() {
        // create_dynamic_map as spec/FORMATS.md §2.3 describes it, in double precision: torch's F32 linspace
        // may land one ulp away, never more.
        java.util.List<Double> values = new java.util.ArrayList<>(java.util.List.of(0.0, 1.0));
        for (int i = 0; i < 7; i++) {
            int items = (1 << i) + 1;
            for (int j = 0; j < items - 1; j++) {
                double a = 0.1 + 0.9 * j / (items - 1), b = 0.1 + 0.9 * (j + 1) / (items - 1);
                double v = Math.pow(10, i - 6) * (a + b) / 2;
                values.add(v);
                values.add(-v);
            }
        }
        java.util.Collections.sort(values);
        assertEquals(256, values.size());
        for (int i = 0; i < 256; i++) {
            float expected = values.get(i).floatValue();
            assertTrue(Math.abs(expected - Codebooks.DYNAMIC[i]) <= Math.ulp(expected), "entry " + i + ": " + expected + " vs " + Codebooks.DYNAMIC[i]);
        }
    }

    @Test
    void dynamicMapEqualsBitsandbytesMap() {
        try (SafetensorsFile f = SafetensorsFile.open(BnbFixtures.bnb("vectors-nf4-bs64-nested-f32-3x100.safetensors"))) {
            float[] expected = f.tensor("q.weight.nested_quant_map").toFloatArray();
            assertArrayEquals(expected, Codebooks.DYNAMIC, 0f);
            assertEquals(0f, Codebooks.DYNAMIC[127]);
            assertEquals(1f, Codebooks.DYNAMIC[255]);
        }
    }

    @ParameterizedTest
    @MethodSource("int8Cases")
    void int8RowQuantizationAndMixedProductMatchBitsandbytes(String file) {
        try (SafetensorsFile f = SafetensorsFile.open(BnbFixtures.bnb(file))) {
            Tensor dense = f.tensor("weight");
            int out = (int) dense.shape().dim(0), in = (int) dense.shape().dim(1);
            boolean bias = f.tensors().containsKey("bias");
            for (float threshold : new float[] {6f, 0f}) {
                Linear8bitLt module = new Linear8bitLt(in, out, bias, DType.F32, threshold);
                Map<String, Tensor> targets = Map.of("weight", Tensor.allocate(dev.qload.core.tensor.Shape.of(out, in), DType.I8, Arena.ofAuto()),
                        "SCB", Tensor.allocate(dev.qload.core.tensor.Shape.of(out), DType.F32, Arena.ofAuto()));
                module.quantizeFrom(dense, targets);
                assertBytesEqual(f.tensor("q.weight"), targets.get("weight"), file + " CB");
                assertBytesEqual(f.tensor("q.SCB"), targets.get("SCB"), file + " SCB");
                module.slot("weight").set(targets.get("weight"));
                module.slot("SCB").set(targets.get("SCB"));
                if (bias) module.slot("bias").set(f.tensor("bias"));
                assertArrayEquals(f.tensor("dequantized").toFloatArray(), module.dequantize(), 0f, file + " dequantized");
                if (!f.tensors().containsKey("x")) continue;
                float[] x = f.tensor("x").toFloatArray();
                int tokens = x.length / in;
                float[] y = new float[tokens * out];
                module.forward(dev.qload.core.kernel.Kernels.get(), x, tokens, y);
                float[] expected = f.tensor(threshold > 0 ? "y_mixed" : "y_nothreshold").toFloatArray();
                for (int i = 0; i < y.length; i++) {
                    // The int8 part is exact integer arithmetic; only the F32 rescale and the outlier sum's order differ.
                    assertEquals(expected[i], y[i], 1e-5f * Math.max(1f, Math.abs(expected[i])), file + " threshold " + threshold + " y[" + i + "]");
                }
            }
        }
    }

    @Test
    void pythonFloatReprMatchesPython() {
        // Values and their repr() in CPython 3.11.
        assertEquals("0.208984375", PythonJson.floatRepr(0.208984375));
        assertEquals("9.999999350456404e-39", PythonJson.floatRepr((double) 1e-38f));
        assertEquals("1e-05", PythonJson.floatRepr(1e-5));
        assertEquals("0.0001", PythonJson.floatRepr(1e-4));
        assertEquals("1e+16", PythonJson.floatRepr(1e16));
        assertEquals("123.0", PythonJson.floatRepr(123.0));
        assertEquals("-0.5", PythonJson.floatRepr(-0.5));
        assertTrue(PythonJson.floatRepr(0.1).equals("0.1"));
    }

    @Test
    void constantTimeCodeLookupAgreesWithTheBinarySearchEverywhere() {
        // Every midpoint, its float neighbours, and a dense sweep of [-1, 1]: the cell table must equal bucketize.
        for (Codebooks.Bucketizer b : new Codebooks.Bucketizer[] {Codebooks.NF4_CODES, Codebooks.FP4_CODES}) {
            assertTrue(b.hasConstantTimePath());
            java.util.List<Float> probes = new java.util.ArrayList<>();
            for (float[] table : new float[][] {Codebooks.NF4, Codebooks.FP4}) {
                for (float v : table) for (float w : table) {
                    float m = (v + w) / 2f;
                    probes.add(m);
                    probes.add(Math.nextUp(m));
                    probes.add(Math.nextDown(m));
                }
            }
            for (int i = -1_000_000; i <= 1_000_000; i++) probes.add(i / 1_000_000f);
            for (float x : probes) assertEquals(b.codeBySearch(x), b.code(x), "x = " + x);
        }
    }

    @Test
    void cellLookupOfTheCrowdedDynamicMapAgreesWithTheBinarySearchEverywhere() {
        // The 8-bit dynamic map (nested absmax) crowds dozens of midpoints into the cells around 0.
        Codebooks.Bucketizer b = Codebooks.DYNAMIC_CODES;
        assertTrue(!b.hasConstantTimePath(), "the dynamic map should have crowded cells, or this test tests nothing new");
        java.util.List<Float> probes = new java.util.ArrayList<>();
        for (float m : b.midpoints()) {
            probes.add(m);
            probes.add(Math.nextUp(m));
            probes.add(Math.nextDown(m));
        }
        for (int i = -1_000_000; i <= 1_000_000; i++) {
            probes.add(i / 1_000_000f);
            probes.add(i * 1e-9f);
        }
        for (float x : new float[] {-2f, 2f, Float.NaN, Float.NEGATIVE_INFINITY, Float.POSITIVE_INFINITY, -0f, 0f, Float.MIN_VALUE}) probes.add(x);
        for (float x : probes) assertEquals(b.codeBySearch(x), b.code(x), "x = " + x);
    }
}
