package dev.qload.examples.fp8;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.qload.core.kernel.Kernels;
import dev.qload.core.nn.Linear;
import dev.qload.core.safetensors.SafetensorsFile;
import dev.qload.core.tensor.DType;
import dev.qload.core.tensor.MetaDevice;
import dev.qload.core.tensor.Shape;
import dev.qload.core.tensor.Tensor;
import java.lang.foreign.Arena;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import tools.jackson.databind.JsonNode;

/** Block quantization (HF's Fp8Quantize rule) and dequantization against the PyTorch reference, bit for bit. */
class Fp8BlocksTest {

    static Stream<String> cases() {
        List<String> files = new ArrayList<>();
        for (JsonNode c : Fp8Fixtures.index().get("blocks")) files.add(c.get("file").asString());
        return files.stream();
    }

    static JsonNode caseOf(String file) {
        for (JsonNode c : Fp8Fixtures.index().get("blocks")) if (c.get("file").asString().equals(file)) return c;
        throw new IllegalArgumentException(file);
    }

    static Fp8Linear module(String file, boolean bias) {
        JsonNode c = caseOf(file);
        long out = c.get("shape").get(0).asLong(), in = c.get("shape").get(1).asLong();
        return new Fp8Linear(in, out, bias, DType.F32, c.get("block").get(0).asInt(), c.get("block").get(1).asInt());
    }

    static void assertBytesEqual(Tensor expected, Tensor actual, String what) {
        assertEquals(expected.byteSize(), actual.byteSize(), what + " size");
        long at = expected.data().mismatch(actual.data());
        assertEquals(-1, at, what + " differs at byte " + at);
    }

    @ParameterizedTest
    @MethodSource("cases")
    void quantizingTheDenseWeightGivesTheReferenceCodesAndScales(String file) {
        try (SafetensorsFile f = SafetensorsFile.open(Fp8Fixtures.file(file))) {
            Fp8Linear m = module(file, false);
            Tensor dense = f.tensor("weight");
            assertEquals(caseOf(file).get("dtype").asString(), dense.dtype().name());
            Map<String, Tensor> targets = new LinkedHashMap<>();
            for (String name : Fp8Linear.QUANTIZED_SLOTS) {
                Tensor meta = m.slot(name).get();
                targets.put(name, Tensor.allocate(meta.shape(), meta.dtype(), Arena.ofAuto()));
            }
            m.quantizeFrom(dense, targets);
            assertEquals(f.tensor("q.weight_scale_inv").shape(), targets.get("weight_scale_inv").shape(), file + " scale grid");
            assertBytesEqual(f.tensor("q.weight"), targets.get("weight"), file + " codes");
            assertBytesEqual(f.tensor("q.weight_scale_inv"), targets.get("weight_scale_inv"), file + " weight_scale_inv");
        }
    }

    @ParameterizedTest
    @MethodSource("cases")
    void dequantizingTheStoredCodesGivesTheReferenceValues(String file) {
        try (SafetensorsFile f = SafetensorsFile.open(Fp8Fixtures.file(file))) {
            Fp8Linear m = module(file, false);
            m.slot("weight").set(f.tensor("q.weight"));
            m.slot("weight_scale_inv").set(f.tensor("q.weight_scale_inv"));
            float[] expected = f.tensor("dequantized").toFloatArray(), actual = m.dequantize();
            assertEquals(expected.length, actual.length);
            for (int i = 0; i < expected.length; i++) {
                assertEquals(Float.floatToRawIntBits(expected[i]), Float.floatToRawIntBits(actual[i]), file + " element " + i);
            }
        }
    }

    @ParameterizedTest
    @MethodSource("cases")
    void forwardEqualsTheDenseLinearOnTheDequantizedWeight(String file) {
        try (SafetensorsFile f = SafetensorsFile.open(Fp8Fixtures.file(file))) {
            Fp8Linear m = module(file, true);
            int out = (int) m.outFeatures(), in = (int) m.inFeatures();
            m.slot("weight").set(f.tensor("q.weight"));
            m.slot("weight_scale_inv").set(f.tensor("q.weight_scale_inv"));
            SplittableRandom random = new SplittableRandom(file.hashCode());
            float[] bias = new float[out];
            for (int i = 0; i < out; i++) bias[i] = (float) random.nextGaussian();
            m.slot("bias").set(Tensor.ofFloats(Shape.of(out), bias));

            Linear dense = MetaDevice.withMetaDevice(() -> new Linear(in, out, true, DType.F32));
            dense.slot("weight").set(f.tensor("dequantized"));
            dense.slot("bias").set(m.slot("bias").get());

            for (int tokens : new int[] {1, 3}) {
                float[] x = new float[tokens * in];
                for (int i = 0; i < x.length; i++) x[i] = (float) random.nextGaussian();
                for (Kernels k : new Kernels[] {Kernels.scalar(), Kernels.get()}) {
                    float[] expected = new float[tokens * out], actual = new float[tokens * out];
                    dense.forward(k, x, tokens, expected);
                    m.forward(k, x, tokens, actual);
                    // The same F32 weights: the scalar kernels sum in one order and agree exactly; the SIMD
                    // twins of dot(segment) and dot(float[]) split the sum differently, a few ulps apart.
                    for (int i = 0; i < expected.length; i++) {
                        float tolerance = k == Kernels.scalar() ? 0f : 1e-5f * Math.max(1f, Math.abs(expected[i]));
                        assertEquals(expected[i], actual[i], tolerance, file + " " + k.name() + " tokens " + tokens + " y[" + i + "]");
                    }
                }
            }
        }
    }

    @ParameterizedTest
    @MethodSource("cases")
    void errorIsAtMostHalfTheLargestE4M3StepOfTheTile(String file) {
        // Scaled to amax -> 448, the widest spacing of E4M3 codes is 32 (in [256, 448]), so rounding moves a
        // value by at most 16/448 = 1/28 of its tile's amax, and so of the matrix's.
        try (SafetensorsFile f = SafetensorsFile.open(Fp8Fixtures.file(file))) {
            float[] w = f.tensor("weight").toFloatArray(), d = f.tensor("dequantized").toFloatArray();
            double amax = 0, worst = 0;
            for (float v : w) amax = Math.max(amax, Math.abs(v));
            for (int i = 0; i < w.length; i++) worst = Math.max(worst, Math.abs(w[i] - d[i]));
            assertTrue(worst <= amax / 28 * (1 + 1e-6), file + ": error " + worst + " vs amax " + amax);
        }
    }
}
