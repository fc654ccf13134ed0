package dev.qload.quantizers.gptq;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.qload.core.safetensors.SafetensorsFile;
import dev.qload.core.tensor.Tensor;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.stream.IntStream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import tools.jackson.databind.JsonNode;

/**
 * qload's round-to-nearest quantizer and packer against tools/fixtures/gptq/gptq_ref.py
 * ({@code quantize_rtn}, which follows AutoGPTQ's fasterquant loop and QuantLinear.pack): from the
 * same F32 weight, the stored qweight, qzeros, scales and g_idx must be identical bit for bit.
 * For act-order cases the reference drew a random visiting order; the columns of each group
 * (which is all that RTN's result depends on) are recovered from its g_idx.
 */
class GptqPackingTest {

    static java.util.stream.Stream<String> vectors() {
        return GptqFormatTest.vectors();
    }

    @ParameterizedTest
    @MethodSource("vectors")
    void rtnAndPackReproduceTheReferenceTensorsBitForBit(String file) {
        JsonNode c = GptqFormatTest.caseOf(file);
        GptqConfig config = new GptqConfig(c.get("bits").asInt(), c.get("group_size").asInt(), c.get("desc_act").asBoolean(), c.get("sym").asBoolean(),
                c.get("checkpoint_format").asString().equals("gptq_v2"), null);
        try (SafetensorsFile f = SafetensorsFile.open(GptqFixtures.gptq(file))) {
            Tensor weight = f.tensor("weight");
            int out = (int) weight.shape().dim(0), in = (int) weight.shape().dim(1);
            double[] w = new double[out * in];
            for (int i = 0; i < w.length; i++) w[i] = weight.getFloat(i);
            int[] gIdx = ints(f.tensor("q.g_idx"));
            int[] perm = config.descAct() ? orderOfGroups(gIdx) : null;
            GptqSolver.Result r = GptqSolver.rtn(w, out, in, perm, config, GroupFit.FLOAT32);
            assertArrayEquals(gIdx, r.gIdx(), file + " g_idx");
            Tensor[] packed = GptqPacker.pack(r, config);
            List<String> names = List.of("qweight", "qzeros", "scales", "g_idx");
            for (int i = 0; i < names.size(); i++) {
                Tensor expected = f.tensor("q." + names.get(i));
                assertEquals(expected.shape(), packed[i].shape(), file + " " + names.get(i) + " shape");
                assertEquals(expected.dtype(), packed[i].dtype(), file + " " + names.get(i) + " dtype");
                byte[] e = expected.data().toArray(java.lang.foreign.ValueLayout.JAVA_BYTE);
                byte[] a = packed[i].data().toArray(java.lang.foreign.ValueLayout.JAVA_BYTE);
                if (file.endsWith("-zero0.safetensors") && names.get(i).equals("qzeros")) continue; // AutoGPTQ's corrupt −1 field: see below
                assertEquals(-1, Arrays.mismatch(e, a), file + " " + names.get(i) + " first differing byte");
            }
            // Every stored zero field must decode to the real zero-point (for -zero0 this is where we part from AutoGPTQ's bytes).
            Tensor zeroPoints = f.tensor("q.zero_points");
            int bits = config.bits();
            for (int g = 0; g < r.groups(); g++) {
                for (int col = 0; col < out; col++) {
                    int field = GptqLinear.field(packed[1].data(), g * ((long) out * bits / 32), 1, col, bits);
                    assertEquals(zeroPoints.data().get(java.lang.foreign.ValueLayout.JAVA_BYTE, (long) g * out + col) & 0xFF, config.effectiveZero(field),
                            file + " zero of group " + g + " column " + col);
                }
            }
        }
    }

    static int[] ints(Tensor t) {
        int[] v = new int[(int) t.shape().elementCount()];
        for (int i = 0; i < v.length; i++) v[i] = t.data().getAtIndex(GptqLinear.I32, i);
        return v;
    }

    /** A visiting order in which each group's columns are contiguous and groups ascend (what act-order produced, up to order within groups). */
    private static int[] orderOfGroups(int[] gIdx) {
        return IntStream.range(0, gIdx.length).boxed().sorted(Comparator.comparingInt(k -> gIdx[k])).mapToInt(Integer::intValue).toArray();
    }
}
