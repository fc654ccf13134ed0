package dev.qload.quantizers.bnb;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * Double ("nested") quantization of the 4-bit absmax (spec/FORMATS.md §2.3;
 * {@code functional.py :: quantize_4bit(compress_statistics=True)}, {@code quantize_blockwise}):
 *
 * <pre>
 * offset = mean(absmax)
 * nested_absmax[j] = max |(absmax − offset)[256j : 256j+256]|
 * q[i] = bucketize((absmax[i] − offset) / nested_absmax[i/256], midpoints of the dynamic map)   lower index on ties
 * absmax[i] ≈ dynamic[q[i]] · nested_absmax[i/256] + offset
 * </pre>
 */
final class NestedAbsmax {
    private static final ValueLayout.OfFloat F32 = Blockwise4bit.F32;

    private NestedAbsmax() {}

    /** Compresses {@code absmax} (F32, n values); returns the offset. Same scaling rules as {@link Blockwise4bit}. */
    static float compress(float[] absmax, MemorySegment codes, MemorySegment nestedAbsmax) {
        float offset = mean(absmax);
        int bs = QuantState.NESTED_BLOCKSIZE;
        int blocks = (absmax.length + bs - 1) / bs;
        for (int j = 0; j < blocks; j++) {
            int start = j * bs, end = Math.min(absmax.length, start + bs);
            float max = 0;
            for (int i = start; i < end; i++) max = Math.max(max, Math.abs(absmax[i] - offset));
            boolean partial = end - start < bs;
            float clamped = Math.max(max, 1e-38f);
            nestedAbsmax.setAtIndex(F32, j, partial ? clamped : max);
            float reciprocal = 1f / clamped;
            for (int i = start; i < end; i++) {
                float scaled = Blockwise4bit.scale(absmax[i] - offset, partial, clamped, reciprocal);
                codes.set(ValueLayout.JAVA_BYTE, i, (byte) Codebooks.DYNAMIC_CODES.code(scaled));
            }
        }
        return offset;
    }

    /** {@code absmax.mean()} in F32, as torch computes it: {@link TorchSum}, then one division. */
    static float mean(float[] values) {
        return TorchSum.sum(values) / values.length;
    }

    static float absmax(MemorySegment codes, MemorySegment nestedAbsmax, MemorySegment nestedMap, float offset, long block) {
        int q = codes.get(ValueLayout.JAVA_BYTE, block) & 0xFF;
        return nestedMap.getAtIndex(F32, q) * nestedAbsmax.getAtIndex(F32, block / QuantState.NESTED_BLOCKSIZE) + offset;
    }
}
