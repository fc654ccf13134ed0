package dev.qload.quantizers.gptq;

import dev.qload.core.kernel.Parallel;
import java.util.Arrays;
import java.util.Comparator;
import java.util.stream.IntStream;

/**
 * GPTQ (Frantar et al. 2022, arXiv:2210.17323, Algorithm 1) as AutoGPTQ's {@code GPTQ.fasterquant}
 * runs it (auto_gptq/quantization/gptq.py), and round-to-nearest (RTN) as the same loop without
 * error feedback. For W [out, in] and the layer's input Hessian H [in, in]:
 *
 * <ol>
 * <li>Without groups, the scale/zero of each row is fitted once on the whole row of the original W.</li>
 * <li>Dead inputs (diag H = 0): H[i,i] = 1 and W[:, i] = 0.</li>
 * <li>{@code static_groups}: every group's scale/zero fitted up front on the original (dead-zeroed) W.</li>
 * <li>{@code desc_act}: columns visited in order of decreasing diag(H) (a stable sort; torch's
 *     argsort is not stable, so ties may be ordered differently there).</li>
 * <li>H += damp_percent · mean(diag H) · I; U = upper Cholesky factor of H⁻¹.</li>
 * <li>Columns in lazy blocks of 128: quantize column i, err = (w − q) / U[i,i], subtract err·U[i, i..]
 *     from the rest of the block, and once per block the accumulated errors from the later columns.</li>
 * <li>With groups (not static), scale/zero are refitted at each group start on
 *     {@code W[:, i : i + group_size]}: AutoGPTQ slices the master W, which holds the updates of
 *     earlier blocks but not those already made inside the current block (kept in W1). We mirror it.</li>
 * <li>g_idx: {@code i // group_size} in visiting order, then un-permuted; with static groups and
 *     desc_act, the column's own group ({@code perm[i] // group_size}, GPTQModel's fix).</li>
 * </ol>
 *
 * Every row's work depends only on that row and on U, so tiles of rows run in parallel.
 */
final class GptqSolver {
    /** AutoGPTQ's default {@code blocksize} for the lazy batch updates. */
    static final int BLOCK_SIZE = 128;
    /** Rows solved together, so each row of U streams through the cache once per tile in the lazy update. */
    private static final int ROW_TILE = 16;

    private GptqSolver() {}

    /**
     * Codes in the original column order and, per row and group, the scale and zero. {@code q} is
     * the fake-quantized weight (what AutoGPTQ writes back into the layer before packing).
     */
    record Result(int out, int in, int groups, int[] codes, double[] scale, double[] zero, int[] gIdx, double[] q) {}

    /** GPTQ of {@code weight} (row-major [out, in], not modified) given the layer's Hessian (consumed). */
    static Result gptq(double[] weight, int out, int in, double[] hessian, GptqConfig config, String layer) {
        return run(weight, out, in, hessian, null, config, layer, GroupFit.FLOAT64);
    }

    /**
     * Round-to-nearest: GPTQ's loop with no Hessian (no error feedback, no reordering) unless
     * {@code perm} gives a visiting order (as act-order would; only the grouping depends on it).
     * With {@code f32} every step is rounded as torch computes it on an F32 weight.
     */
    static Result rtn(double[] weight, int out, int in, int[] perm, GptqConfig config, boolean f32) {
        return run(weight, out, in, null, perm, config, "", f32);
    }

    private static Result run(double[] weight, int out, int in, double[] h, int[] givenPerm, GptqConfig config, String layer, boolean f32) {
        int bits = config.bits();
        boolean grouped = config.groupSize() != -1;
        int gs = grouped ? config.groupSize() : in;
        int groups = (in + gs - 1) / gs;
        double[] w = weight.clone();
        GroupFit whole = grouped ? null : GroupFit.fit(w, out, in, 0, in, bits, config.sym(), f32);
        if (h != null) {
            for (int i = 0; i < in; i++) {
                if (h[i * in + i] == 0) {
                    h[i * in + i] = 1;
                    for (int r = 0; r < out; r++) w[r * in + i] = 0;
                }
            }
        }
        GroupFit[] fixed = null;
        if (grouped && config.staticGroups()) {
            fixed = new GroupFit[groups];
            for (int g = 0; g < groups; g++) fixed[g] = GroupFit.fit(w, out, in, g * gs, Math.min(in, (g + 1) * gs), bits, config.sym(), f32);
        }
        int[] perm = givenPerm;
        if (perm == null && h != null && config.descAct()) perm = descendingDiagonal(h, in);
        if (perm != null) {
            w = permuteColumns(w, out, in, perm);
            if (h != null) h = permuteSymmetric(h, in, perm);
        }
        double[] u = h == null ? null : inverseFactor(h, in, config.dampPercent(), layer);

        int[] codes = new int[out * in];
        double[] q = new double[out * in];
        double[] scale = new double[out * groups], zero = new double[out * groups];
        double[] master = w;
        int[] p = perm;
        GroupFit[] statics = fixed;
        int tiles = (out + ROW_TILE - 1) / ROW_TILE;
        Parallel.forRange(tiles, 1, (fromTile, toTile) -> {
            double[] w1 = new double[BLOCK_SIZE], err = new double[ROW_TILE * BLOCK_SIZE], pending = new double[ROW_TILE * in];
            GroupFit[] fits = new GroupFit[ROW_TILE];
            for (int tile = fromTile; tile < toTile; tile++) {
                int r0 = tile * ROW_TILE, rows = Math.min(ROW_TILE, out - r0);
                for (int i1 = 0; i1 < in; i1 += BLOCK_SIZE) {
                    int i2 = Math.min(in, i1 + BLOCK_SIZE), count = i2 - i1;
                    for (int t = 0; t < rows; t++) {
                        int r = r0 + t, row = r * in;
                        System.arraycopy(master, row + i1, w1, 0, count);
                        for (int i = 0; i < count; i++) {
                            int col = i1 + i;
                            GroupFit fit;
                            int fitRow;
                            if (!grouped) {
                                fit = whole;
                                fitRow = r;
                            } else if (statics != null) {
                                fit = statics[(p == null ? col : p[col]) / gs];
                                fitRow = r;
                            } else {
                                if (col % gs == 0) {
                                    fits[t] = GroupFit.fit(master, 1, in, row + col, row + Math.min(in, col + gs), bits, config.sym(), f32);
                                    scale[r * groups + col / gs] = fits[t].scale[0];
                                    zero[r * groups + col / gs] = fits[t].zero[0];
                                }
                                fit = fits[t];
                                fitRow = 0;
                            }
                            double x = w1[i];
                            int code = fit.code(fitRow, x);
                            double value = fit.value(fitRow, code);
                            int dst = row + (p == null ? col : p[col]);
                            codes[dst] = code;
                            q[dst] = value;
                            if (u == null) continue;
                            int ur = col * in;
                            double e = (x - value) / u[ur + col];
                            for (int j = i; j < count; j++) w1[j] = w1[j] - e * u[ur + i1 + j];
                            err[t * BLOCK_SIZE + i] = e;
                        }
                    }
                    if (u == null || i2 == in) continue;
                    // W[:, i2:] −= Err1 · U[i1:i2, i2:], one U row at a time for the whole tile (read once per tile, not per row).
                    Arrays.fill(pending, 0, rows * in, 0);
                    for (int i = 0; i < count; i++) {
                        int ur = (i1 + i) * in;
                        for (int t = 0; t < rows; t++) {
                            double e = err[t * BLOCK_SIZE + i];
                            int pr = t * in;
                            Axpy.add(e, u, ur + i2, pending, pr + i2, in - i2);
                        }
                    }
                    for (int t = 0; t < rows; t++) {
                        int row = (r0 + t) * in, pr = t * in;
                        for (int j = i2; j < in; j++) master[row + j] -= pending[pr + j];
                    }
                }
                if (!grouped) {
                    for (int r = r0; r < r0 + rows; r++) {
                        scale[r] = whole.scale[r];
                        zero[r] = whole.zero[r];
                    }
                }
            }
        });
        if (statics != null) {
            for (int g = 0; g < groups; g++) {
                for (int r = 0; r < out; r++) {
                    scale[r * groups + g] = statics[g].scale[r];
                    zero[r * groups + g] = statics[g].zero[r];
                }
            }
        }
        return new Result(out, in, groups, codes, scale, zero, groupIndex(in, gs, p, statics != null), q);
    }

    /** g_idx in the original column order. */
    private static int[] groupIndex(int in, int gs, int[] perm, boolean staticGroups) {
        int[] g = new int[in];
        for (int j = 0; j < in; j++) {
            int column = perm == null ? j : perm[j];
            g[column] = staticGroups ? column / gs : j / gs;
        }
        return g;
    }

    /** A dense weight [out, in] of any float dtype, row-major, as the solver's doubles (F32 values widened exactly). */
    static double[] weightOf(dev.qload.core.tensor.Tensor dense) {
        int out = (int) dense.shape().dim(0), in = (int) dense.shape().dim(1);
        double[] w = new double[out * in];
        float[] row = new float[in];
        dev.qload.core.kernel.Kernels k = dev.qload.core.kernel.Kernels.get();
        for (int r = 0; r < out; r++) {
            k.toFloat(dense.data(), dense.dtype(), (long) r * in, row, 0, in);
            for (int c = 0; c < in; c++) w[r * in + c] = row[c];
        }
        return w;
    }

    /** Column order by decreasing diag(H), ties in column order. */
    static int[] descendingDiagonal(double[] h, int in) {
        return IntStream.range(0, in).boxed()
                .sorted(Comparator.comparingDouble((Integer i) -> h[i * in + i]).reversed())
                .mapToInt(Integer::intValue).toArray();
    }

    private static double[] permuteColumns(double[] w, int out, int in, int[] perm) {
        double[] p = new double[w.length];
        for (int r = 0; r < out; r++) for (int j = 0; j < in; j++) p[r * in + j] = w[r * in + perm[j]];
        return p;
    }

    private static double[] permuteSymmetric(double[] h, int in, int[] perm) {
        double[] p = new double[h.length];
        for (int a = 0; a < in; a++) for (int b = 0; b < in; b++) p[a * in + b] = h[perm[a] * in + perm[b]];
        return p;
    }

    private static double[] inverseFactor(double[] h, int in, double dampPercent, String layer) {
        double mean = 0;
        for (int i = 0; i < in; i++) mean += h[i * in + i];
        double damp = dampPercent * (mean / in);
        for (int i = 0; i < in; i++) h[i * in + i] += damp;
        return HessianInverse.upperCholeskyOfInverse(h, in, layer);
    }
}
