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
    /** Output columns per task with several tokens: a group's decoded tile (rows × 256 floats) stays in L2. */
    private static final int TILE_COLUMNS = 256;

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
        if (tokens > 1) {
            multiplyTokens(l, xs, xsum, tokens, y, bias);
            return;
        }
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
     * Several tokens (prefill, calibration): each group's codes are decoded once per call into a
     * float tile, then every token runs broadcast FMAs over it, so unpacking is paid once, not once
     * per token. Per output element the FMAs run in the same order as the one-token path, so both
     * give the same bits.
     */
    private static void multiplyTokens(Layout l, float[] x, float[] xsum, int tokens, float[] y, float[] bias) {
        int in = l.in, out = l.out, groups = l.groupStart.length - 1, bits = l.bits, perWord = 32 / bits, lanes = I.length();
        int maxRows = 0;
        for (int g = 0; g < groups; g++) maxRows = Math.max(maxRows, l.groupStart[g + 1] - l.groupStart[g]);
        int tileRows = maxRows;
        int tasks = (out + TILE_COLUMNS - 1) / TILE_COLUMNS;
        Parallel.forRange(tasks, 1, (from, to) -> {
            float[] tile = new float[tileRows * TILE_COLUMNS], acc = new float[4 * lanes], sum = new float[tokens * TILE_COLUMNS];
            IntVector mask = IntVector.broadcast(I, (1 << bits) - 1);
            for (int task = from; task < to; task++) {
                int c0 = task * TILE_COLUMNS, width = Math.min(TILE_COLUMNS, out - c0), vectorEnd = width / lanes * lanes;
                java.util.Arrays.fill(sum, 0);
                for (int g = 0; g < groups; g++) {
                    int k0 = l.groupStart[g], rows = l.groupStart[g + 1] - k0;
                    for (int word = k0 / perWord; word < (k0 + rows) / perWord; word++) {
                        long rowByte = ((long) word * out + c0) * 4;
                        int kl = word * perWord - k0;
                        for (int c = 0; c < vectorEnd; c += lanes) {
                            IntVector w = words(l, rowByte, c);
                            for (int f = 0; f < perWord; f++) codes(w, f * bits, mask).intoArray(tile, (kl + f) * TILE_COLUMNS + c);
                        }
                        for (int c = vectorEnd; c < width; c++) {
                            int w = l.packed.getAtIndex(GptqLinear.I32, (long) word * out + c0 + c);
                            for (int f = 0; f < perWord; f++) tile[(kl + f) * TILE_COLUMNS + c] = (w >>> (f * bits)) & ((1 << bits) - 1);
                        }
                    }
                    int gb = g * out;
                    for (int t0 = 0; t0 < tokens; t0 += 4) {
                        int n = Math.min(4, tokens - t0);
                        for (int c = 0; c < width; c += lanes) {
                            if (c + lanes <= width) tileTimesTokens(tile, c, rows, x, in, t0, n, k0, acc);
                            else tileTailTimesTokens(tile, c, width, rows, x, in, t0, n, k0, acc);
                            for (int i = 0; i < n; i++) {
                                int t = t0 + i, sb = t * TILE_COLUMNS;
                                float xg = xsum[t * groups + g];
                                for (int cc = c; cc < Math.min(width, c + lanes); cc++) {
                                    sum[sb + cc] += l.scale[gb + c0 + cc] * acc[i * lanes + cc - c] - l.scaleZero[gb + c0 + cc] * xg;
                                }
                            }
                        }
                    }
                }
                for (int t = 0; t < tokens; t++) {
                    for (int c = 0; c < width; c++) y[t * out + c0 + c] = bias == null ? sum[t * TILE_COLUMNS + c] : sum[t * TILE_COLUMNS + c] + bias[c0 + c];
                }
            }
        });
    }

    /**
     * acc[i·lanes + j] = Σ_k tile[k, c + j] · x[t0 + i, k0 + k] for up to 4 tokens: the tile's column
     * vector is loaded once per row for all of them, the sums stay in registers.
     */
    private static void tileTimesTokens(float[] tile, int c, int rows, float[] x, int in, int t0, int n, int k0, float[] acc) {
        FloatVector a0 = FloatVector.zero(F), a1 = a0, a2 = a0, a3 = a0;
        int x0 = t0 * in + k0, x1 = x0 + in, x2 = x1 + in, x3 = x2 + in;
        for (int k = 0; k < rows; k++) {
            FloatVector tv = FloatVector.fromArray(F, tile, k * TILE_COLUMNS + c);
            a0 = tv.fma(FloatVector.broadcast(F, x[x0 + k]), a0);
            if (n > 1) a1 = tv.fma(FloatVector.broadcast(F, x[x1 + k]), a1);
            if (n > 2) a2 = tv.fma(FloatVector.broadcast(F, x[x2 + k]), a2);
            if (n > 3) a3 = tv.fma(FloatVector.broadcast(F, x[x3 + k]), a3);
        }
        int lanes = F.length();
        a0.intoArray(acc, 0);
        a1.intoArray(acc, lanes);
        a2.intoArray(acc, 2 * lanes);
        a3.intoArray(acc, 3 * lanes);
    }

    /** {@link #tileTimesTokens} for the last columns [c, width) when fewer than a vector remain. */
    private static void tileTailTimesTokens(float[] tile, int c, int width, int rows, float[] x, int in, int t0, int n, int k0, float[] acc) {
        int lanes = F.length();
        for (int i = 0; i < n; i++) {
            int xb = (t0 + i) * in + k0;
            for (int cc = c; cc < width; cc++) {
                float s = 0;
                for (int k = 0; k < rows; k++) s = Math.fma(tile[k * TILE_COLUMNS + cc], x[xb + k], s);
                acc[i * lanes + cc - c] = s;
            }
        }
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
