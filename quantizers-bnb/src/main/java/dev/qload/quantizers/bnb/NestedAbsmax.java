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
 * q[i] = argmin_k |dynamic[k] − (absmax[i] − offset) / nested_absmax[i/256]|   first (lowest) index on ties
 * absmax[i] ≈ dynamic[q[i]] · nested_absmax[i/256] + offset
 * </pre>
 */
final class NestedAbsmax {
    private static final ValueLayout.OfFloat F32 = Blockwise4bit.F32;

    private NestedAbsmax() {}

    /** Compresses {@code absmax} (F32, n values); returns the offset. */
    static float compress(float[] absmax, MemorySegment codes, MemorySegment nestedAbsmax) {
        double sum = 0;
        for (float a : absmax) sum += a;
        float offset = (float) (sum / absmax.length);
        int blocks = (absmax.length + QuantState.NESTED_BLOCKSIZE - 1) / QuantState.NESTED_BLOCKSIZE;
        for (int j = 0; j < blocks; j++) {
            int start = j * QuantState.NESTED_BLOCKSIZE, end = Math.min(absmax.length, start + QuantState.NESTED_BLOCKSIZE);
            float max = 0;
            for (int i = start; i < end; i++) max = Math.max(max, Math.abs(absmax[i] - offset));
            nestedAbsmax.setAtIndex(F32, j, max);
            float scale = 1f / Math.max(max, 1e-38f);
            for (int i = start; i < end; i++) codes.set(ValueLayout.JAVA_BYTE, i, (byte) nearest((absmax[i] - offset) * scale));
        }
        return offset;
    }

    /** Index of the closest dynamic-map value; the lowest index wins a tie, as torch.argmin does. */
    static int nearest(float x) {
        float[] map = Codebooks.DYNAMIC;
        int lo = 0, hi = map.length - 1;
        while (hi - lo > 1) { // the map is sorted: bracket x, then compare the two neighbours
            int mid = (lo + hi) >>> 1;
            if (map[mid] <= x) lo = mid;
            else hi = mid;
        }
        return Math.abs(map[hi] - x) < Math.abs(map[lo] - x) ? hi : lo;
    }

    static float absmax(MemorySegment codes, MemorySegment nestedAbsmax, MemorySegment nestedMap, float offset, long block) {
        int q = codes.get(ValueLayout.JAVA_BYTE, block) & 0xFF;
        return nestedMap.getAtIndex(F32, q) * nestedAbsmax.getAtIndex(F32, block / QuantState.NESTED_BLOCKSIZE) + offset;
    }
}
