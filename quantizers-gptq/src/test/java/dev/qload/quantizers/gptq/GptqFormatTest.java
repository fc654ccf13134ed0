package dev.qload.quantizers.gptq;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.qload.core.kernel.Kernels;
import dev.qload.core.kernel.MatMul;
import dev.qload.core.safetensors.SafetensorsFile;
import dev.qload.core.tensor.DType;
import dev.qload.core.tensor.Shape;
import dev.qload.core.tensor.Tensor;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import tools.jackson.databind.JsonNode;

/** qload's GPTQ unpacking and dequantization against tools/fixtures/gptq/gptq_ref.py, bit for bit. */
class GptqFormatTest {

    static Stream<String> vectors() {
        List<String> files = new ArrayList<>();
        for (JsonNode c : GptqFixtures.index().get("vectors")) files.add(c.get("file").asString());
        return files.stream();
    }

    static JsonNode caseOf(String file) {
        for (JsonNode c : GptqFixtures.index().get("vectors")) if (c.get("file").asString().equals(file)) return c;
        throw new IllegalArgumentException(file);
    }

    static GptqLinear module(JsonNode c, SafetensorsFile f) {
        GptqConfig config = new GptqConfig(c.get("bits").asInt(), c.get("group_size").asInt(), c.get("desc_act").asBoolean(), c.get("sym").asBoolean(),
                c.get("checkpoint_format").asString().equals("gptq_v2"), null);
        long in = c.get("in_features").asLong(), out = c.get("out_features").asLong();
        assertEquals(c.get("n_groups").asLong(), config.groups(in), "groups");
        GptqLinear m = new GptqLinear(config, in, out, config.groups(in), DType.F16, true, false, DType.F32);
        for (String name : List.of("qweight", "qzeros", "scales", "g_idx")) {
            Tensor t = f.tensor("q." + name);
            assertEquals(m.slot(name).get().shape(), t.shape(), file(c) + " " + name + " shape");
            assertEquals(m.slot(name).get().dtype(), t.dtype(), file(c) + " " + name + " dtype");
            m.slot(name).set(t);
        }
        return m;
    }

    static String file(JsonNode c) {
        return c.get("file").asString();
    }

    @ParameterizedTest
    @MethodSource("vectors")
    void dequantizingTheStoredTensorsGivesTheReferenceBitForBit(String file) {
        JsonNode c = caseOf(file);
        try (SafetensorsFile f = SafetensorsFile.open(GptqFixtures.gptq(file))) {
            float[] expected = f.tensor("dequantized").toFloatArray();
            float[] actual = module(c, f).dequantize();
            assertEquals(expected.length, actual.length);
            for (int i = 0; i < expected.length; i++) {
                assertEquals(Float.floatToIntBits(expected[i]), Float.floatToIntBits(actual[i]), file + " element " + i + ": " + expected[i] + " vs " + actual[i]);
            }
        }
    }

    @ParameterizedTest
    @MethodSource("vectors")
    void forwardEqualsDenseMatmulOfTheDequantizedWeight(String file) {
        JsonNode c = caseOf(file);
        try (SafetensorsFile f = SafetensorsFile.open(GptqFixtures.gptq(file))) {
            GptqLinear m = module(c, f);
            int in = (int) m.inFeatures(), out = (int) m.outFeatures(), tokens = 5;
            Random rnd = new Random(file.hashCode());
            float[] x = new float[tokens * in];
            for (int i = 0; i < x.length; i++) x[i] = (float) rnd.nextGaussian();
            float[] y = new float[tokens * out];
            m.forward(Kernels.get(), x, tokens, y);
            // Several tokens at once (decoded tiles) give the same bits as one token at a time.
            float[] one = new float[out];
            for (int t = 0; t < tokens; t++) {
                m.forward(Kernels.get(), java.util.Arrays.copyOfRange(x, t * in, (t + 1) * in), 1, one);
                for (int col = 0; col < out; col++) assertEquals(Float.floatToIntBits(one[col]), Float.floatToIntBits(y[t * out + col]), file + " token " + t + " column " + col);
            }
            // 2/4/8 bits run the vector kernel (act-order ones on rows permuted at load); 3 bits the generic decoder.
            assertEquals(c.get("bits").asInt() != 3 && !"false".equals(System.getProperty("qload.simd")), m.usesVectorKernel(), file + " kernel");
            Tensor w = Tensor.ofFloats(Shape.of(out, in), m.dequantize());
            float[] dense = new float[tokens * out];
            MatMul.linear(Kernels.get(), w, null, x, tokens, dense);
            float scale = 0;
            for (float v : dense) scale = Math.max(scale, Math.abs(v));
            for (int i = 0; i < y.length; i++) {
                assertEquals(dense[i], y[i], 1e-5f * Math.max(scale, 1e-6f), file + " y[" + i + "]");
            }
        }
    }

    @Test
    void zeroPointZeroInV1ReadsBackAsZeroLikeAutoGptq() {
        String file = "vectors-b4-g32-asym-v1-zero0.safetensors";
        try (SafetensorsFile f = SafetensorsFile.open(GptqFixtures.gptq(file))) {
            float[] actual = module(caseOf(file), f).dequantize();
            float[] read = f.tensor("dequantized").toFloatArray(), intended = f.tensor("dequantized_intended").toFloatArray();
            int differ = 0;
            for (int i = 0; i < read.length; i++) {
                assertEquals(Float.floatToIntBits(read[i]), Float.floatToIntBits(actual[i]), "element " + i);
                if (read[i] != intended[i]) differ++;
            }
            assertTrue(differ > 0, "the zero0 vector must exercise the v1 flaw");
        }
    }

    @Test
    void bitStreamReadingCrossesWordsForThreeBits() {
        // 32 codes 0..7 repeating, packed LSB first into 3 words; values 10 and 21 straddle words.
        int[] codes = new int[32];
        for (int i = 0; i < 32; i++) codes[i] = (i * 5 + 3) & 7;
        long[] words = new long[3];
        for (int i = 0; i < 32; i++) {
            long p = 3L * i;
            words[(int) (p / 32)] |= ((long) codes[i] << (p % 32)) & 0xFFFFFFFFL;
            if (p % 32 + 3 > 32) words[(int) (p / 32) + 1] |= (long) codes[i] >>> (32 - p % 32);
        }
        MemorySegment seg = Arena.ofAuto().allocate(12, 4);
        for (int i = 0; i < 3; i++) seg.setAtIndex(GptqLinear.I32, i, (int) words[i]);
        for (int i = 0; i < 32; i++) assertEquals(codes[i], GptqLinear.field(seg, 0, 1, i, 3), "code " + i);
    }

    static GptqConfig parse(String json) {
        return GptqConfig.from(dev.qload.core.config.ModelConfig.of((tools.jackson.databind.node.ObjectNode) dev.qload.core.config.Json.STRICT.readTree(json)));
    }

    @Test
    void configParsesTransformersFieldsAndRejectsBadOnes() {
        GptqConfig c = parse("{\"bits\": 3, \"group_size\": -1, \"desc_act\": true, \"sym\": false, \"checkpoint_format\": \"gptq_v2\","
                + " \"modules_in_block_to_quantize\": [[\"self_attn.q_proj\"], [\"mlp.up_proj\"]]}");
        assertEquals(new GptqConfig(3, -1, true, false, true, List.of(List.of("self_attn.q_proj"), List.of("mlp.up_proj"))), c);
        assertEquals(1, c.groups(256));
        GptqConfig v1 = parse("{\"bits\": 4, \"group_size\": 32}");
        assertEquals(false, v1.v2());
        assertEquals(0, v1.effectiveZero(15), "v1 4-bit: (field + 1) & maxq");
        assertEquals(8, parse("{\"bits\": 3}").effectiveZero(7), "v1 3-bit: field + 1, no mask");
        assertEquals(dev.qload.core.error.ErrorId.CONFIG_INVALID,
                org.junit.jupiter.api.Assertions.assertThrows(dev.qload.core.error.ConfigException.class, () -> parse("{\"bits\": 5}")).id());
        assertEquals(dev.qload.core.error.ErrorId.UNSUPPORTED_QUANT_FORMAT,
                org.junit.jupiter.api.Assertions.assertThrows(dev.qload.core.error.ConfigException.class, () -> parse("{\"checkpoint_format\": \"marlin\"}")).id());
        assertEquals(dev.qload.core.error.ErrorId.CONFIG_WRONG_TYPE,
                org.junit.jupiter.api.Assertions.assertThrows(dev.qload.core.error.ConfigException.class,
                        () -> parse("{\"modules_in_block_to_quantize\": [\"q_proj\"]}")).id());
    }
}
