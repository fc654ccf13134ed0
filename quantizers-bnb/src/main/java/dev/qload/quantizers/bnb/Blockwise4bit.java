package dev.qload.quantizers.bnb;

import dev.qload.core.kernel.Kernels;
import dev.qload.core.tensor.DType;
import dev.qload.core.tensor.FloatFormats;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;

/**
 * bitsandbytes' blockwise 4-bit quantization (spec/FORMATS.md §2.2; {@code functional.py ::
 * quantize_4bit, dequantize_4bit}).
 *
 * <pre>
 * flat = W.reshape(-1)                      row-major; blocks of `blocksize` may cross rows
 * absmax[b] = max |flat[b·bs : (b+1)·bs]|   F32; the last block may be partial
 * q[i] = nearest code of flat[i] / absmax[i / bs]   ties to the lower code
 * byte[k] = q[2k] &lt;&lt; 4 | q[2k+1]            FIRST element in the HIGH nibble; odd n padded with code 0
 * W[i] = table[q[i]] · absmax[i / bs]       dequantization, in F32
 * </pre>
 */
final class Blockwise4bit {
    static final ValueLayout.OfFloat F32 = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    static final ValueLayout.OfShort I16 = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    private Blockwise4bit() {}

    static float read(MemorySegment src, DType dtype, long i) {
        return switch (dtype) {
            case F32 -> src.getAtIndex(F32, i);
            case BF16 -> FloatFormats.bf16ToFloat(src.getAtIndex(I16, i));
            case F16 -> FloatFormats.f16ToFloat(src.getAtIndex(I16, i));
            default -> throw new IllegalArgumentException("bnb quantizes F32, BF16 or F16 weights, not " + dtype);
        };
    }

    /**
     * Quantizes blocks [firstBlock, endBlock) of n elements: codes into {@code packed}, scales into
     * {@code absmax}. The scaling is bnb's default backend, op for op: a full block multiplies by the
     * F32 reciprocal of its absmax (clamped to 1e-38 only for that reciprocal; the stored absmax is
     * the raw maximum), the partial last block divides by its absmax clamped to 1e-38, which is also
     * what it stores. An odd n is padded with the code of 0.0 (7 for NF4, 0 for FP4).
     */
    static void quantizeBlocks(QuantType type, int blocksize, MemorySegment src, DType dtype, long n,
                               MemorySegment packed, MemorySegment absmax, long firstBlock, long endBlock) {
        Codebooks.Bucketizer codes = Codebooks.codes(type);
        int padding = codes.code(0f);
        float[] midpoints = codes.midpoints();
        int[] codeOf = new int[midpoints.length + 1];
        for (int i = 0; i < codeOf.length; i++) codeOf[i] = codes.codeOfBucket(i);
        Kernels k = Kernels.get();
        float[] block = new float[blocksize];
        byte[] buckets = new byte[blocksize];
        byte[] pairs = new byte[(blocksize + 1) / 2];
        for (long b = firstBlock; b < endBlock; b++) {
            long start = b * blocksize;
            int len = (int) Math.min(blocksize, n - start);
            k.toFloat(src, dtype, start, block, 0, len); // one read of the mapped bytes per block
            float max = k.absMax(block, 0, len);
            boolean partial = len < blocksize;
            float clamped = Math.max(max, 1e-38f);
            absmax.setAtIndex(F32, b, partial ? clamped : max);
            // The same arithmetic as scale(): reciprocal multiply for a full block, true division for the partial one.
            k.bucketize(block, 0, len, 1f / clamped, partial ? clamped : Float.NaN, midpoints, buckets, 0);
            // packed in an array, then one copy per block rather than a bounds-checked segment write
            // per byte (quantizeBlocks' own frames were 14 % of an NF4 load's JFR samples, issue 10)
            for (int i = 0, p = 0; i < len; i += 2, p++) {
                int hi = codeOf[buckets[i]];
                int lo = i + 1 < len ? codeOf[buckets[i + 1]] : padding;
                pairs[p] = (byte) (hi << 4 | lo);
            }
            MemorySegment.copy(pairs, 0, packed, ValueLayout.JAVA_BYTE, start >>> 1, (len + 1) / 2);
        }
    }

    /** clamp(x · (1/absmax), −1, 1) for a full block, clamp(x / absmax, −1, 1) for the partial one. */
    static float scale(float x, boolean partial, float clampedAbsmax, float reciprocal) {
        return Math.clamp(partial ? x / clampedAbsmax : x * reciprocal, -1f, 1f);
    }

    /** The 4-bit code of element i. */
    static int code(MemorySegment packed, long i) {
        int b = packed.get(ValueLayout.JAVA_BYTE, i >>> 1) & 0xFF;
        return (i & 1) == 0 ? b >>> 4 : b & 0xF;
    }
}
