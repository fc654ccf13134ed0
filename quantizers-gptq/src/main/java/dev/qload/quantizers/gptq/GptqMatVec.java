package dev.qload.quantizers.gptq;

import dev.qload.core.kernel.Parallel;
import java.lang.foreign.MemorySegment;
import java.nio.ByteOrder;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * The GPTQ product {@code y = x · Wᵀ} straight from the packed codes, for 2, 4 and 8 bits (whole
 * codes per 32-bit word), never forming W. Within a group g of input rows,
 *
 * <pre>
 * y[c] += s[g,c] · Σ_{k∈g} x[k]·q[k,c]  −  s[g,c]·z[g,c] · Σ_{k∈g} x[k]
 * </pre>
 *
 * so the inner loop is integer codes times activations only. The codes of 16 (or the vector
 * width's) adjacent output columns sit in one vector of qweight words; each word holds 32/b input
 * rows, unpacked by shift-and-mask and converted to float lane-wise.
 *
 * <p>Act-order checkpoints (non-monotonic g_idx) were permuted once at load (rows sorted by group,
 * as exllama/Marlin reorder by {@code argsort(g_idx)}), so that each group is a contiguous run of
 * words; a call then only permutes the activations, O(in).
 */
final class GptqMatVec {
    private static final VectorSpecies<Float> F = FloatVector.SPECIES_PREFERRED;
    private static final VectorSpecies<Integer> I = IntVector.SPECIES_PREFERRED;
    private static final ByteOrder LE = ByteOrder.LITTLE_ENDIAN;
    /**
     * Output columns per task. Wide, so that a task reads 4 KB runs of each qweight row: narrow
     * stripes (a cache line per row, rows 16 KB apart) defeat the hardware prefetcher and ran 4×
     * slower from memory than from cache (GptqBench).
     */
    private static final int COLUMNS_PER_TASK = 1024;

    /**
     * Everything the product needs, prepared at load.
     *
     * @param perm       input row j of {@code packed} is original row perm[j]; null when g_idx is already sorted
     * @param groupStart first (permuted) row of each group, and {@code in} at the end; multiples of 32/bits
     * @param scale      s[g·out + c], F32
     * @param scaleZero  s·z, F32
     * @param packed     qweight, [in·bits/32, out] little-endian int32 (rows permuted when perm != null)
     */
    record Layout(int in, int out, int bits, int[] perm, int[] groupStart, float[] scale, float[] scaleZero, MemorySegment packed) {}

    private GptqMatVec() {}

    /** Whether the vector kernel covers {@code bits} (3-bit codes straddle words: the generic path takes those). */
    static boolean covers(int bits) {
        return (bits == 2 || bits == 4 || bits == 8) && F.length() == I.length();
    }

    static void multiply(Layout l, float[] x, int tokens, float[] y, float[] bias) {
        int in = l.in, out = l.out, groups = l.groupStart.length - 1;
        float[] xp = x;
        if (l.perm != null) {
            xp = new float[tokens * in];
            for (int t = 0; t < tokens; t++) for (int j = 0; j < in; j++) xp[t * in + j] = x[t * in + l.perm[j]];
        }
        float[] xsum = new float[tokens * groups];
        for (int t = 0; t < tokens; t++) {
            for (int g = 0; g < groups; g++) {
                float s = 0;
                for (int j = l.groupStart[g]; j < l.groupStart[g + 1]; j++) s += xp[t * in + j];
                xsum[t * groups + g] = s;
            }
        }
        float[] xs = xp;
        int tasks = (out + COLUMNS_PER_TASK - 1) / COLUMNS_PER_TASK;
        Parallel.forRange(tasks, 1, (from, to) -> {
            float[] acc = new float[COLUMNS_PER_TASK], sum = new float[COLUMNS_PER_TASK];
            for (int task = from; task < to; task++) {
                int c0 = task * COLUMNS_PER_TASK, c1 = Math.min(out, c0 + COLUMNS_PER_TASK);
                for (int t = 0; t < tokens; t++) {
                    java.util.Arrays.fill(sum, 0);
                    for (int g = 0; g < groups; g++) {
                        java.util.Arrays.fill(acc, 0);
                        codesTimesActivations(l, xs, t * in, l.groupStart[g], l.groupStart[g + 1], c0, c1, acc);
                        float xg = xsum[t * groups + g];
                        int gb = g * out;
                        for (int c = c0; c < c1; c++) sum[c - c0] += l.scale[gb + c] * acc[c - c0] - l.scaleZero[gb + c] * xg;
                    }
                    for (int c = c0; c < c1; c++) y[t * out + c] = bias == null ? sum[c - c0] : sum[c - c0] + bias[c];
                }
            }
        });
    }

    /**
     * acc[c − c0] += Σ_{k ∈ [k0, k1)} x[xOff + k] · q[k, c] for columns [c0, c1). Four column
     * vectors at a time: four independent FMA chains hide the FMA latency that one chain of
     * 32/b dependent FMAs per word exposes (GptqBench: 1.4 → 1.1 ms per 4096² call from cache).
     */
    private static void codesTimesActivations(Layout l, float[] x, int xOff, int k0, int k1, int c0, int c1, float[] acc) {
        int bits = l.bits, perWord = 32 / bits, out = l.out, lanes = I.length();
        IntVector mask = IntVector.broadcast(I, (1 << bits) - 1);
        int width = c1 - c0, quadEnd = width / (4 * lanes) * (4 * lanes), vectorEnd = width / lanes * lanes;
        for (int word = k0 / perWord; word < k1 / perWord; word++) {
            int xb = xOff + word * perWord;
            long rowByte = ((long) word * out + c0) * 4;
            for (int c = 0; c < quadEnd; c += 4 * lanes) {
                IntVector w0 = words(l, rowByte, c), w1 = words(l, rowByte, c + lanes);
                IntVector w2 = words(l, rowByte, c + 2 * lanes), w3 = words(l, rowByte, c + 3 * lanes);
                FloatVector a0 = FloatVector.fromArray(F, acc, c), a1 = FloatVector.fromArray(F, acc, c + lanes);
                FloatVector a2 = FloatVector.fromArray(F, acc, c + 2 * lanes), a3 = FloatVector.fromArray(F, acc, c + 3 * lanes);
                for (int f = 0; f < perWord; f++) {
                    FloatVector xv = FloatVector.broadcast(F, x[xb + f]);
                    int shift = f * bits;
                    a0 = codes(w0, shift, mask).fma(xv, a0);
                    a1 = codes(w1, shift, mask).fma(xv, a1);
                    a2 = codes(w2, shift, mask).fma(xv, a2);
                    a3 = codes(w3, shift, mask).fma(xv, a3);
                }
                a0.intoArray(acc, c);
                a1.intoArray(acc, c + lanes);
                a2.intoArray(acc, c + 2 * lanes);
                a3.intoArray(acc, c + 3 * lanes);
            }
            for (int c = quadEnd; c < vectorEnd; c += lanes) {
                IntVector w = words(l, rowByte, c);
                FloatVector a = FloatVector.fromArray(F, acc, c);
                for (int f = 0; f < perWord; f++) a = codes(w, f * bits, mask).fma(FloatVector.broadcast(F, x[xb + f]), a);
                a.intoArray(acc, c);
            }
            for (int c = vectorEnd; c < width; c++) {
                int w = l.packed.getAtIndex(GptqLinear.I32, (long) word * out + c0 + c);
                float s = acc[c];
                for (int f = 0; f < perWord; f++) s = Math.fma((float) ((w >>> (f * bits)) & ((1 << bits) - 1)), x[xb + f], s);
                acc[c] = s;
            }
        }
    }

    private static IntVector words(Layout l, long rowByte, int column) {
        return IntVector.fromMemorySegment(I, l.packed, rowByte + (long) column * 4, LE);
    }

    /** The b-bit codes at {@code shift} of each lane's word, as floats. */
    private static FloatVector codes(IntVector words, int shift, IntVector mask) {
        return (FloatVector) words.lanewise(VectorOperators.LSHR, shift).and(mask).convert(VectorOperators.I2F, 0);
    }
}
