package dev.qload.quantizers.gptq;

import dev.qload.core.kernel.Parallel;
import dev.qload.core.tensor.DType;
import dev.qload.core.tensor.Shape;
import dev.qload.core.tensor.Tensor;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

/**
 * Writes a solved layer in AutoGPTQ's {@code QuantLinear} layout (spec/FORMATS.md §3.1), as
 * {@code QuantLinear.pack} (auto_gptq/nn_modules/qlinear/qlinear_cuda_old.py) does it:
 *
 * <pre>
 * scales     = scale.half()                                   F16 [G, out]
 * intweight  = clamp(round((Q + zero·scale) / scales), 0, maxq)  in F32, per input row k, group g_idx[k]
 * qweight    = intweight packed along the input dim, LSB first   I32 [in·b/32, out]
 * qzeros     = zero − 1 (v1) or zero (v2) packed along the output dim  I32 [G, out·b/32]
 * </pre>
 *
 * Codes are re-derived from the fake-quantized weight and the F16 scales, as AutoGPTQ does (so a
 * scale that F16 rounds changes them exactly as there). A v1 zero-point of 0 has no v1 field
 * (0 − 1 = −1): AutoGPTQ ORs 0xFFFFFFFF into the word and corrupts its neighbours; we store
 * {@code (zero − 1) & maxq}, which readers decode back to 0 for 2, 4 and 8 bits.
 */
final class GptqPacker {
    private GptqPacker() {}

    /** qweight, qzeros, scales (F16) and g_idx, in that order, for {@code r}. */
    static Tensor[] pack(GptqSolver.Result r, GptqConfig config) {
        int out = r.out(), in = r.in(), groups = r.groups(), bits = config.bits(), maxq = config.maxq();
        float[] zeroScale = new float[groups * out], scaleH = new float[groups * out];
        int[] zeroInt = new int[groups * out];
        Tensor scales = Tensor.allocate(Shape.of(groups, out), DType.F16, Arena.ofAuto());
        for (int c = 0; c < out; c++) {
            for (int g = 0; g < groups; g++) {
                int i = g * out + c;
                float s = (float) r.scale()[c * groups + g], z = (float) r.zero()[c * groups + g];
                zeroScale[i] = z * s;
                scales.setFloat(i, s);
                scaleH[i] = scales.getFloat(i);
                zeroInt[i] = (int) z;
            }
        }
        int[] intweight = new int[in * out];
        // [out, in] to [in, out] in TILE × TILE tiles, so that both sides stay in the L1 cache (issue 10:
        // the column-by-column transposition was the largest item of a GPTQ RTN quantize-on-load)
        // Bands of TILE input rows are independent: in parallel.
        Parallel.forRange((in + TILE - 1) / TILE, 1, (fromBand, toBand) -> {
            for (int k0 = fromBand * TILE; k0 < Math.min(in, toBand * TILE); k0 += TILE) {
                for (int c0 = 0; c0 < out; c0 += TILE) {
                    for (int c = c0, cEnd = Math.min(out, c0 + TILE); c < cEnd; c++) {
                        for (int k = k0, kEnd = Math.min(in, k0 + TILE); k < kEnd; k++) {
                            int i = r.gIdx()[k] * out + c;
                            float v = ((float) r.q()[c * in + k] + zeroScale[i]) / scaleH[i];
                            intweight[k * out + c] = (int) Math.max(0, Math.min(maxq, Math.rint(v)));
                        }
                    }
                }
            }
        });
        Tensor qweight = Tensor.allocate(Shape.of((long) in * bits / 32, out), DType.I32, Arena.ofAuto());
        if (32 % bits == 0 && in % (32 / bits) == 0) {
            packRows(qweight.data(), intweight, in, out, bits);
        } else {
            for (int c = 0; c < out; c++) packStream(qweight.data(), c, out, intweight, c, out, in, bits);
        }
        int[] fields = new int[groups * out];
        for (int i = 0; i < fields.length; i++) fields[i] = config.v2() ? zeroInt[i] : (zeroInt[i] - 1) & maxq;
        long zeroWords = (long) out * bits / 32;
        Tensor qzeros = Tensor.allocate(Shape.of(groups, zeroWords), DType.I32, Arena.ofAuto());
        for (int g = 0; g < groups; g++) packStream(qzeros.data(), g * zeroWords, 1, fields, g * out, 1, out, bits);
        Tensor gIdx = Tensor.allocate(Shape.of(in), DType.I32, Arena.ofAuto());
        for (int k = 0; k < in; k++) gIdx.data().setAtIndex(GptqLinear.I32, k, r.gIdx()[k]);
        return new Tensor[] {qweight, qzeros, scales, gIdx};
    }

    private static final int TILE = 64;

    /**
     * The layout {@link #packStream} writes column by column, for widths that divide 32 (2, 4, 8
     * bits): word row w of every column at once, from input rows w·(32/bits) … — each qweight row
     * is built in an int[] and copied once, instead of a read-modify-write per field at a stride of
     * {@code out} words.
     */
    static void packRows(MemorySegment words, int[] intweight, int in, int out, int bits) {
        int perWord = 32 / bits, mask = (1 << bits) - 1;
        Parallel.forRange(in / perWord, 8, (from, to) -> {
            int[] row = new int[out];
            for (int w = from; w < to; w++) {
                java.util.Arrays.fill(row, 0);
                for (int j = 0; j < perWord; j++) {
                    int base = (w * perWord + j) * out, shift = j * bits;
                    for (int c = 0; c < out; c++) row[c] |= (intweight[base + c] & mask) << shift;
                }
                MemorySegment.copy(row, 0, words, GptqLinear.I32, (long) w * out * Integer.BYTES, out); // the offset is in bytes
            }
        });
    }

    /**
     * Writes {@code count} values ({@code values[from + i·step]}) as one little-endian bit stream of
     * {@code bits}-wide fields into the 32-bit words at {@code base + w·stride}: field i at bits
     * [i·b, i·b + b), straddling two words for 3 bits. This is the layout GptqLinear.field reads.
     */
    static void packStream(MemorySegment words, long base, long stride, int[] values, int from, int step, int count, int bits) {
        long mask = (1L << bits) - 1;
        for (int i = 0; i < count; i++) {
            long v = values[from + i * step] & mask;
            long p = (long) i * bits;
            long w = p >>> 5;
            int off = (int) (p & 31);
            long at = base + w * stride;
            words.setAtIndex(GptqLinear.I32, at, words.getAtIndex(GptqLinear.I32, at) | (int) (v << off));
            if (off + bits > 32) {
                long next = at + stride;
                words.setAtIndex(GptqLinear.I32, next, words.getAtIndex(GptqLinear.I32, next) | (int) (v >>> (32 - off)));
            }
        }
    }
}
