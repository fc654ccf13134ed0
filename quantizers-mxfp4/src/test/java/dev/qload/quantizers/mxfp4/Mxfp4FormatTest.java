package dev.qload.quantizers.mxfp4;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.qload.core.error.ErrorId;
import dev.qload.core.error.LoadException;
import dev.qload.core.tensor.DType;
import dev.qload.core.tensor.Shape;
import dev.qload.core.tensor.Tensor;
import java.lang.foreign.Arena;
import org.junit.jupiter.api.Test;

/**
 * MXFP4 bytes ↔ floats, bit for bit against tools/fixtures/mxfp4/mxfp4_ref.py (transformers'
 * convert_moe_packed_tensors and triton_kernels' downcast_to_mxfp_torch, re-implemented in torch and
 * re-checked by check_mxfp4_fixtures.py with exact fractions).
 */
class Mxfp4FormatTest {

    /** Bit patterns, so that −0.0, subnormals and ±inf are compared exactly. */
    static int[] bits(float[] v) {
        int[] out = new int[v.length];
        for (int i = 0; i < v.length; i++) out[i] = Float.floatToRawIntBits(v[i]);
        return out;
    }

    /** blocks [..., rows, G, 16] and scales [..., rows, G] of a fixture, seen as one expert (or E experts). */
    static PackedWeight packed(String file, String blocksName, String scalesName) {
        Tensor blocks = Mxfp4Fixtures.tensor(file, blocksName), scales = Mxfp4Fixtures.tensor(file, scalesName);
        long[] dims = scales.shape().dims();
        Shape scales3 = dims.length == 3 ? scales.shape() : Shape.of(1, dims[0], dims[1]);
        Shape blocks4 = Shape.of(scales3.dim(0), scales3.dim(1), scales3.dim(2), 16);
        return PackedWeight.of(scalesName, blocks.view(blocks4), scales.view(scales3));
    }

    static float[] decodeAll(PackedWeight p) {
        float[] out = new float[p.experts() * p.rows() * p.cols()];
        float[] row = new float[p.cols()];
        for (int e = 0; e < p.experts(); e++) {
            for (int r = 0; r < p.rows(); r++) {
                p.decodeRow(e, r, row);
                System.arraycopy(row, 0, out, (e * p.rows() + r) * p.cols(), p.cols());
            }
        }
        return out;
    }

    @Test
    void everyByteUnderEveryScaleDecodesBitExactLowNibbleFirst() {
        PackedWeight p = packed("e2m1-decode-table.safetensors", "blocks", "scales");
        assertArrayEquals(bits(Mxfp4Fixtures.floats("e2m1-decode-table.safetensors", "dequantized")), bits(decodeAll(p)));
        assertArrayEquals(bits(Mxfp4Fixtures.floats("e2m1-decode-table.safetensors", "e2m1_values")), bits(Mxfp4Format.E2M1));
    }

    @Test
    void extremeScalesDecodeBitExactIncludingSubnormalsAndOverflowToInfinity() {
        PackedWeight p = packed("experts-extreme-scales.safetensors", "blocks", "scales");
        float[] expected = Mxfp4Fixtures.floats("experts-extreme-scales.safetensors", "dequantized");
        assertArrayEquals(bits(expected), bits(decodeAll(p)));
        boolean subnormal = false, infinite = false;
        for (float v : expected) {
            subnormal |= v != 0 && Math.abs(v) < Float.MIN_NORMAL;
            infinite |= Float.isInfinite(v);
        }
        assertTrue(subnormal && infinite, "the fixture exercises scale 0 (subnormals) and 254 (overflow)");
    }

    @Test
    void scale255IsRefusedNamingTheTensorAndTheGroup() {
        PackedWeight p = packed("scale-255-nan.safetensors", "blocks", "scales");
        LoadException e = assertThrows(LoadException.class, () -> p.decodeRow(0, 1, new float[p.cols()]));
        assertEquals(ErrorId.E8M0_NAN_SCALE, e.id());
        assertEquals("scales", e.problems().getFirst().tensor());
        assertTrue(e.getMessage().contains("row 1, group 0"), e.getMessage());
        LoadException scan = assertThrows(LoadException.class, p::requireNoNanScale);
        assertTrue(scan.getMessage().contains("row 0, group 0"), scan.getMessage());
    }

    @Test
    void theNanScaleScanFindsA0xFFAtEveryPositionAndPassesEveryOtherByte() {
        for (int groups = 1; groups <= 19; groups++) {
            Tensor scales = Tensor.allocate(Shape.of(1, 1, groups), DType.U8, Arena.ofAuto());
            Tensor blocks = Tensor.allocate(Shape.of(1, 1, groups, 16), DType.U8, Arena.ofAuto());
            for (int g = 0; g < groups; g++) scales.data().set(java.lang.foreign.ValueLayout.JAVA_BYTE, g, (byte) (0xFE - g)); // 254, 253, ...
            PackedWeight.of("s", blocks, scales).requireNoNanScale();
            for (int at = 0; at < groups; at++) {
                byte before = scales.data().get(java.lang.foreign.ValueLayout.JAVA_BYTE, at);
                scales.data().set(java.lang.foreign.ValueLayout.JAVA_BYTE, at, (byte) 0xFF);
                PackedWeight p = PackedWeight.of("s", blocks, scales);
                LoadException e = assertThrows(LoadException.class, p::requireNoNanScale, groups + " groups, 0xFF at " + at);
                assertTrue(e.getMessage().contains("row 0, group " + at + " "), e.getMessage());
                scales.data().set(java.lang.foreign.ValueLayout.JAVA_BYTE, at, before);
            }
        }
    }

    @Test
    void elementsRoundToNearestEvenAsTritonMain() {
        float[] inputs = Mxfp4Fixtures.floats("e2m1-encode.safetensors", "inputs");
        float[] codes = Mxfp4Fixtures.floats("e2m1-encode.safetensors", "codes_rtne");
        for (int i = 0; i < inputs.length; i++) {
            assertEquals((int) codes[i], Mxfp4Format.encodeE2m1(inputs[i]), "input " + inputs[i] + " (0x" + Integer.toHexString(Float.floatToRawIntBits(inputs[i])) + ")");
            assertEquals((int) codes[i], Mxfp4Format.encodeE2m1ByThresholds(inputs[i]), "thresholds, input " + inputs[i]);
        }
    }

    @Test
    void thresholdEncodingAgreesWithTheBitManipulationOnASweepOfFloats() {
        // Every 61st bit pattern from 0 to beyond 8 (so past saturation) with both signs, and every
        // midpoint and E2M1 value with its float neighbours.
        for (int bits = 0; bits <= Float.floatToRawIntBits(8.5f); bits += 61) {
            for (int sign : new int[] {0, 0x80000000}) {
                float q = Float.intBitsToFloat(bits | sign);
                assertEquals(Mxfp4Format.encodeE2m1(q), Mxfp4Format.encodeE2m1ByThresholds(q), "q = " + q);
                assertEquals(Mxfp4Format.encodeE2m1(q), Mxfp4Format.encodeE2m1ByQuarters(q), "quarters, q = " + q);
            }
        }
        for (float q : new float[] {Float.NaN, -Float.NaN, Float.NEGATIVE_INFINITY, 1e30f, -1e-30f}) {
            assertEquals(Mxfp4Format.encodeE2m1ByThresholds(q), Mxfp4Format.encodeE2m1ByQuarters(q), "quarters, q = " + q);
        }
        float[] edges = {0f, 0.25f, 0.5f, 0.75f, 1f, 1.25f, 1.5f, 1.75f, 2f, 2.5f, 3f, 3.5f, 4f, 5f, 6f, 7f, Float.MIN_VALUE, Float.POSITIVE_INFINITY};
        for (float e : edges) {
            for (float q : new float[] {e, Math.nextUp(e), Math.nextDown(e), -e, -Math.nextUp(e), -Math.nextDown(e)}) {
                assertEquals(Mxfp4Format.encodeE2m1(q), Mxfp4Format.encodeE2m1ByThresholds(q), "q = " + q);
                assertEquals(Mxfp4Format.encodeE2m1(q), Mxfp4Format.encodeE2m1ByQuarters(q), "quarters, q = " + q);
            }
        }
    }

    @Test
    void vectorGroupEncoderGivesTheScalarEncodersBytesAndScales() {
        // Groups of random magnitudes over many scales, groups of exact midpoints and E2M1 values at
        // several scales (ties) and their neighbours, all zeros, and groups holding Inf or NaN.
        java.util.SplittableRandom r = new java.util.SplittableRandom(17);
        float[] ties = {0f, 0.25f, 0.5f, 0.75f, 1f, 1.25f, 1.5f, 1.75f, 2f, 2.5f, 3f, 3.5f, 4f, 5f, 6f, -0.25f, -0.75f, -2.5f, -3.5f, -5f, -0f};
        int[] lanes = new int[Mxfp4Format.GROUP];
        for (int g = 0; g < 4000; g++) {
            float[] x = new float[Mxfp4Format.GROUP];
            float scale = (float) Math.pow(2, r.nextInt(-30, 30));
            for (int i = 0; i < x.length; i++) {
                x[i] = switch (g % 4) {
                    case 0 -> (float) (r.nextGaussian() * scale);
                    case 1 -> ties[r.nextInt(ties.length)] * scale;
                    case 2 -> g % 8 == 2 ? 0f : Math.nextUp(ties[r.nextInt(ties.length)] * scale);
                    default -> (float) (r.nextDouble() * 2 - 1) * scale;
                };
            }
            if (g % 97 == 0) x[r.nextInt(x.length)] = g % 194 == 0 ? Float.NaN : Float.NEGATIVE_INFINITY;
            byte[] scalar = new byte[Mxfp4Format.GROUP_BYTES], vector = new byte[Mxfp4Format.GROUP_BYTES];
            int s = Mxfp4Format.quantizeGroup(x, 0, scalar, 0), v = VectorGroupEncoder.quantizeGroup(x, 0, vector, 0, lanes);
            assertEquals(s, v, "scale of group " + g);
            if (s != Mxfp4Format.SCALE_NAN) assertArrayEquals(scalar, vector, "codes of group " + g);
        }
    }

    @Test
    void quantizingBf16ExpertsGivesTheReferenceBlocksAndScales() {
        // weight is [E, out, in] (nn.Linear orientation); the quantizer reads HF's [E, in, out], so transpose it first.
        Tensor weight = Mxfp4Fixtures.tensor("experts-random.safetensors", "weight");
        int experts = 2, rows = 8, cols = 64;
        Tensor hf = Tensor.allocate(Shape.of(experts, cols, rows), DType.BF16, Arena.ofAuto());
        for (int e = 0; e < experts; e++) {
            for (int r = 0; r < rows; r++) {
                for (int c = 0; c < cols; c++) hf.setFloat(((long) e * cols + c) * rows + r, weight.getFloat(((long) e * rows + r) * cols + c));
            }
        }
        Tensor blocks = Tensor.allocate(Shape.of(experts, rows, cols / 32, 16), DType.U8, Arena.ofAuto());
        Tensor scales = Tensor.allocate(Shape.of(experts, rows, cols / 32), DType.U8, Arena.ofAuto());
        DenseToMxfp4.quantize("weight", hf, DenseOrientation.COLS_MAJOR, blocks, scales);
        assertArrayEquals(Mxfp4Fixtures.floats("experts-random.safetensors", "blocks"), blocks.toFloatArray());
        assertArrayEquals(Mxfp4Fixtures.floats("experts-random.safetensors", "scales"), scales.toFloatArray());
    }

    @Test
    void quantizingLinearOrientedWeightsInBf16AndF32GivesTheReferenceBlocksAndScales() {
        // The reference weight is [E, out, in], a Linear's orientation: read row by row (issue 10's fast path).
        Tensor weight = Mxfp4Fixtures.tensor("experts-random.safetensors", "weight");
        int experts = 2, rows = 8, cols = 64;
        for (DType dtype : new DType[] {DType.BF16, DType.F32}) {
            Tensor dense = Tensor.allocate(Shape.of(experts, rows, cols), dtype, Arena.ofAuto());
            for (long i = 0; i < dense.elementCount(); i++) dense.setFloat(i, weight.getFloat(i)); // BF16 values: exact in F32
            Tensor blocks = Tensor.allocate(Shape.of(experts, rows, cols / 32, 16), DType.U8, Arena.ofAuto());
            Tensor scales = Tensor.allocate(Shape.of(experts, rows, cols / 32), DType.U8, Arena.ofAuto());
            DenseToMxfp4.quantize("weight", dense, DenseOrientation.ROWS_MAJOR, blocks, scales);
            assertArrayEquals(Mxfp4Fixtures.floats("experts-random.safetensors", "blocks"), blocks.toFloatArray(), dtype.name());
            assertArrayEquals(Mxfp4Fixtures.floats("experts-random.safetensors", "scales"), scales.toFloatArray(), dtype.name());
        }
    }

    @Test
    void infiniteLinearWeightsAreRefusedNamingRowAndGroup() {
        Tensor dense = Tensor.allocate(Shape.of(1, 3, 64), DType.F32, Arena.ofAuto());
        dense.setFloat(2 * 64 + 40, Float.NaN); // row 2, input 40: the second group
        Tensor blocks = Tensor.allocate(Shape.of(1, 3, 2, 16), DType.U8, Arena.ofAuto());
        Tensor scales = Tensor.allocate(Shape.of(1, 3, 2), DType.U8, Arena.ofAuto());
        LoadException e = assertThrows(LoadException.class, () -> DenseToMxfp4.quantize("q_proj.weight", dense, DenseOrientation.ROWS_MAJOR, blocks, scales));
        assertEquals(ErrorId.E8M0_NAN_SCALE, e.id());
        assertEquals("q_proj.weight", e.problems().getFirst().tensor());
        assertTrue(e.getMessage().contains("output column 2, input rows 32..63"), e.getMessage());
    }

    @Test
    void infiniteWeightsAreRefusedWhenQuantizing() {
        Tensor hf = Tensor.allocate(Shape.of(1, 32, 2), DType.F32, Arena.ofAuto());
        hf.setFloat(33, Float.POSITIVE_INFINITY); // input row 16, output column 1
        Tensor blocks = Tensor.allocate(Shape.of(1, 2, 1, 16), DType.U8, Arena.ofAuto());
        Tensor scales = Tensor.allocate(Shape.of(1, 2, 1), DType.U8, Arena.ofAuto());
        LoadException e = assertThrows(LoadException.class, () -> DenseToMxfp4.quantize("experts.gate_up_proj", hf, DenseOrientation.COLS_MAJOR, blocks, scales));
        assertEquals(ErrorId.E8M0_NAN_SCALE, e.id());
        assertEquals("experts.gate_up_proj", e.problems().getFirst().tensor());
        assertTrue(e.getMessage().contains("output column 1"), e.getMessage());
    }

    @Test
    void dequantizingToHfOrientationMatchesConvertMoePackedTensorsInF32AndBf16() {
        PackedWeight p = packed("experts-random.safetensors", "blocks", "scales");
        float[] expected = Mxfp4Fixtures.floats("experts-random.safetensors", "dequantized_transposed");
        for (DType dtype : new DType[] {DType.F32, DType.BF16}) {
            Tensor dense = Tensor.allocate(Shape.of(2, 64, 8), dtype, Arena.ofAuto());
            Mxfp4ToDense.fill(p, dense, DenseOrientation.COLS_MAJOR);
            assertArrayEquals(bits(expected), bits(dense.toFloatArray()), dtype.name());
        }
    }

    @Test
    void forwardFromMxfp4EqualsTheDequantizedMatmul() {
        PackedWeight p = packed("experts-random.safetensors", "blocks", "scales");
        float[] w = Mxfp4Fixtures.floats("experts-random.safetensors", "dequantized"); // [E, out, in]
        Tensor bias = Tensor.ofFloats(Shape.of(2, 8), new float[] {1, -2, 3, -4, 5, -6, 7, -8, 0.5f, 0.25f, 0, 0, 1, 1, 2, 2});
        java.util.SplittableRandom random = new java.util.SplittableRandom(7);
        float[] x = new float[3 * 64];
        for (int i = 0; i < x.length; i++) x[i] = (float) random.nextGaussian();
        for (int e = 0; e < 2; e++) {
            float[] y = new float[3 * 8];
            new Mxfp4Projection(p, bias, e).forward(dev.qload.core.kernel.Kernels.scalar(), x, 3, y);
            for (int t = 0; t < 3; t++) {
                for (int r = 0; r < 8; r++) {
                    double expected = bias.getFloat(e * 8 + r);
                    for (int c = 0; c < 64; c++) expected += (double) w[(e * 8 + r) * 64 + c] * x[t * 64 + c];
                    assertEquals(expected, y[t * 8 + r], 1e-4 * Math.max(1, Math.abs(expected)), "expert " + e + " token " + t + " row " + r);
                }
            }
        }
    }
}
