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

    /**
     * {@code absmax.mean()} in F32: a pairwise sum (eight running sums over blocks of up to 128,
     * halves above that, as numpy's {@code pairwise_sum}), then one division. This reproduces torch's
     * F32 mean on every fixture in tools/fixtures/bnb; a plain or double-precision sum does not.
     */
    static float mean(float[] values) {
        return pairwiseSum(values, 0, values.length) / values.length;
    }

    static float pairwiseSum(float[] a, int from, int n) {
        if (n < 8) {
            float sum = 0;
            for (int i = 0; i < n; i++) sum += a[from + i];
            return sum;
        }
        if (n <= 128) {
            float[] r = new float[8];
            System.arraycopy(a, from, r, 0, 8);
            int i = 8;
            for (; i < n - n % 8; i += 8) for (int j = 0; j < 8; j++) r[j] += a[from + i + j];
            float sum = ((r[0] + r[1]) + (r[2] + r[3])) + ((r[4] + r[5]) + (r[6] + r[7]));
            for (; i < n; i++) sum += a[from + i];
            return sum;
        }
        int half = n / 2;
        half -= half % 8;
        return pairwiseSum(a, from, half) + pairwiseSum(a, from + half, n - half);
    }

    static float absmax(MemorySegment codes, MemorySegment nestedAbsmax, MemorySegment nestedMap, float offset, long block) {
        int q = codes.get(ValueLayout.JAVA_BYTE, block) & 0xFF;
        return nestedMap.getAtIndex(F32, q) * nestedAbsmax.getAtIndex(F32, block / QuantState.NESTED_BLOCKSIZE) + offset;
    }
}
