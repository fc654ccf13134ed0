package dev.qload.quantizers.gptq;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.qload.core.config.Json;
import dev.qload.core.safetensors.SafetensorsFile;
import dev.qload.core.tensor.DType;
import dev.qload.core.tensor.Tensor;
import java.io.IOException;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import tools.jackson.databind.JsonNode;

/**
 * The GPTQ algorithm against testdata/gptq/algo, written by tools/fixtures/gptq/gptq_algo_ref.py
 * (AutoGPTQ's add_batch and fasterquant in torch, checked there against the unmodified upstream
 * code). In double precision the reference's codes must come out identical and the scales, zeros
 * and fake-quantized weights equal to rounding; the one F32 case (AutoGPTQ's own precision) must
 * give the same codes. And the point of GPTQ: its layer output error on the calibration data is
 * clearly below round-to-nearest's.
 */
class GptqSolverTest {
    private static final ValueLayout.OfDouble F64 = ValueLayout.JAVA_DOUBLE_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    static JsonNode index() throws IOException {
        return Json.STRICT.readTree(Files.readAllBytes(GptqFixtures.gptq("algo/index.json")));
    }

    static Stream<String> cases() throws IOException {
        List<String> names = new ArrayList<>();
        for (JsonNode c : index().get("cases")) names.add(c.get("name").asString());
        return names.stream();
    }

    static JsonNode caseOf(String name) throws IOException {
        for (JsonNode c : index().get("cases")) if (c.get("name").asString().equals(name)) return c;
        throw new IllegalArgumentException(name);
    }

    static GptqConfig config(JsonNode c) {
        return new GptqConfig(c.get("bits").asInt(), c.get("group_size").asInt(), c.get("desc_act").asBoolean(), c.get("sym").asBoolean(), false, null,
                c.get("percdamp").asDouble(), c.get("static_groups").asBoolean(), true);
    }

    static double[] doubles(Tensor t) {
        double[] v = new double[(int) t.shape().elementCount()];
        for (int i = 0; i < v.length; i++) v[i] = t.dtype() == DType.F64 ? t.data().getAtIndex(F64, i) : t.getFloat(i);
        return v;
    }

    @ParameterizedTest
    @MethodSource("cases")
    void gptqReproducesTheReferenceCodesScalesAndWeights(String name) throws IOException {
        JsonNode c = caseOf(name);
        GptqConfig config = config(c);
        try (SafetensorsFile f = SafetensorsFile.open(GptqFixtures.gptq("algo/" + c.get("file").asString()))) {
            boolean f32 = c.get("dtype").asString().equals("f32");
            double tolerance = f32 ? 1e-6 : 1e-12;
            int out = c.get("out_features").asInt(), in = c.get("in_features").asInt();
            GptqSolver.Result r = GptqSolver.gptq(doubles(f.tensor("weight")), out, in, doubles(f.tensor("hessian")), config, name);
            assertArrayEquals(GptqPackingTest.ints(f.tensor("gptq.codes")), r.codes(), name + " codes");
            assertArrayEquals(GptqPackingTest.ints(f.tensor("gptq.g_idx")), r.gIdx(), name + " g_idx");
            assertClose(doubles(f.tensor("gptq.scales")), r.scale(), tolerance, name + " scales");
            assertClose(doubles(f.tensor("gptq.zeros")), r.zero(), tolerance, name + " zeros");
            assertClose(doubles(f.tensor("gptq.q")), r.q(), tolerance, name + " q");
        }
    }

    @ParameterizedTest
    @MethodSource("cases")
    void hessianAccumulatedFromTheCalibrationInputsMatchesTheReference(String name) throws IOException {
        JsonNode c = caseOf(name);
        try (SafetensorsFile f = SafetensorsFile.open(GptqFixtures.gptq("algo/" + c.get("file").asString()))) {
            Tensor x = f.tensor("x");
            int sequences = (int) x.shape().dim(0), tokens = (int) x.shape().dim(1), in = (int) x.shape().dim(2);
            double[] xs = doubles(x);
            float[] xf = new float[xs.length];
            for (int i = 0; i < xs.length; i++) xf[i] = (float) xs[i]; // activations reach the Hessian as F32, as in a forward pass
            Hessian h = new Hessian(in);
            for (int s = 0; s < sequences; s++) h.addBatch(xf, s * tokens * in, tokens);
            assertEquals(sequences, h.samples());
            double[] expected = doubles(f.tensor("hessian")), actual = h.matrix();
            double scale = 0;
            for (double v : expected) scale = Math.max(scale, Math.abs(v));
            // F64 reference inputs rounded to F32 move H by ~1e-7 relative; the accumulation itself adds ~1e-16.
            assertClose(expected, actual, 1e-6 * scale, name + " hessian");
        }
    }

    @ParameterizedTest
    @MethodSource("cases")
    void gptqLayerOutputErrorIsClearlyBelowRoundToNearest(String name) throws IOException {
        JsonNode c = caseOf(name);
        GptqConfig config = config(c);
        try (SafetensorsFile f = SafetensorsFile.open(GptqFixtures.gptq("algo/" + c.get("file").asString()))) {
            int out = c.get("out_features").asInt(), in = c.get("in_features").asInt();
            double[] w = doubles(f.tensor("weight")), x = doubles(f.tensor("x"));
            GptqSolver.Result gptq = GptqSolver.gptq(w, out, in, doubles(f.tensor("hessian")), config, name);
            GptqConfig plain = new GptqConfig(config.bits(), config.groupSize(), false, config.sym(), false, null);
            GptqSolver.Result rtn = GptqSolver.rtn(w, out, in, null, plain, c.get("dtype").asString().equals("f32"));
            assertArrayEquals(GptqPackingTest.ints(f.tensor("rtn.codes")), rtn.codes(), name + " RTN codes");
            double eGptq = relativeOutputError(x, w, gptq.q(), out, in), eRtn = relativeOutputError(x, w, rtn.q(), out, in);
            System.out.printf("%s: relative output error GPTQ %.4g, RTN %.4g (ratio %.3f)%n", name, eGptq, eRtn, eGptq / eRtn);
            assertEquals(c.get("rel_output_err_gptq").asDouble(), eGptq, 1e-6 * eGptq, name + " GPTQ error vs the reference's figure");
            assertEquals(c.get("rel_output_err_rtn").asDouble(), eRtn, 1e-6 * eRtn, name + " RTN error vs the reference's figure");
            assertTrue(eGptq < 0.8 * eRtn, name + ": GPTQ " + eGptq + " is not clearly below RTN " + eRtn);
        }
    }

    /** ‖X·Wᵀ − X·Qᵀ‖²_F / ‖X·Wᵀ‖²_F over every calibration token. */
    static double relativeOutputError(double[] x, double[] w, double[] q, int out, int in) {
        int tokens = x.length / in;
        double num = 0, den = 0;
        for (int t = 0; t < tokens; t++) {
            for (int r = 0; r < out; r++) {
                double yw = 0, yq = 0;
                for (int k = 0; k < in; k++) {
                    yw += x[t * in + k] * w[r * in + k];
                    yq += x[t * in + k] * q[r * in + k];
                }
                num += (yw - yq) * (yw - yq);
                den += yw * yw;
            }
        }
        return num / den;
    }

    static void assertClose(double[] expected, double[] actual, double tolerance, String what) {
        assertEquals(expected.length, actual.length, what + " length");
        for (int i = 0; i < expected.length; i++) {
            double e = expected[i], a = actual[i];
            if (Math.abs(e - a) > tolerance * Math.max(1, Math.abs(e))) throw new AssertionError(what + " element " + i + ": expected " + e + ", got " + a);
        }
    }
}
