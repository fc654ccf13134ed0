package dev.qload.quantizers.mxfp4;

import dev.qload.core.error.ErrorId;
import dev.qload.core.error.LoadException;
import dev.qload.core.error.Problem;
import dev.qload.core.kernel.Kernels;
import dev.qload.core.kernel.Parallel;
import dev.qload.core.tensor.DType;
import dev.qload.core.tensor.FloatFormats;
import dev.qload.core.tensor.Tensor;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * A dense weight (any float dtype, read straight from the mapped checkpoint; experts in HF
 * orientation {@code [E, cols, rows]} or a Linear's {@code [rows, cols]}, see {@link DenseOrientation})
 * to MXFP4 {@code blocks [E, rows, cols/32, 16]} and {@code scales [E, rows, cols/32]}, as
 * transformers' {@code quantize_to_mxfp4} does ({@code w.to(bfloat16)}, quantized along the input
 * axis). A chunk is {@link #ROWS_PER_CHUNK} rows of one expert; for experts each group then reads 32
 * source rows of {@code ROWS_PER_CHUNK} contiguous values, so the source is swept in order.
 */
final class DenseToMxfp4 {
    static final int ROWS_PER_CHUNK = 64;

    private DenseToMxfp4() {}

    /** Shapes come from {@code scales} ({@code [E, rows, cols/32]}); {@code dense} must hold E·rows·cols elements. */
    static void quantize(String sourceName, Tensor dense, DenseOrientation orientation, Tensor blocks, Tensor scales) {
        int experts = Math.toIntExact(scales.shape().dim(0)), rows = Math.toIntExact(scales.shape().dim(1));
        int groups = Math.toIntExact(scales.shape().dim(2)), cols = groups * Mxfp4Format.GROUP;
        int chunksPerExpert = (rows + ROWS_PER_CHUNK - 1) / ROWS_PER_CHUNK;
        Kernels k = Kernels.get();
        Parallel.forRange(experts * chunksPerExpert, 1, (from, to) -> {
            // ROWS_MAJOR: one output row at a time, widened in one run (cols values). COLS_MAJOR: one
            // input column of the chunk at a time (its n output rows are contiguous), gathered into a
            // tile of 32 columns per row. Either way the source is read in runs by the SIMD widening
            // kernel instead of element by element (issue 10: the per-element reads and their bounds
            // checks were 80 % of the JFR samples of an MXFP4 quantize-on-load).
            float[] run = new float[orientation == DenseOrientation.ROWS_MAJOR ? cols : ROWS_PER_CHUNK];
            float[] tile = orientation == DenseOrientation.ROWS_MAJOR ? null : new float[ROWS_PER_CHUNK * Mxfp4Format.GROUP];
            byte[] codes = new byte[groups * Mxfp4Format.GROUP_BYTES];
            byte[] rowScales = new byte[groups];
            int[] lanes = new int[Mxfp4Format.GROUP];
            for (int chunk = from; chunk < to; chunk++) {
                int expert = chunk / chunksPerExpert, first = chunk % chunksPerExpert * ROWS_PER_CHUNK;
                int n = Math.min(ROWS_PER_CHUNK, rows - first);
                if (orientation == DenseOrientation.ROWS_MAJOR) {
                    for (int r = 0; r < n; r++) {
                        read(k, dense, orientation.index(expert, first + r, 0, rows, cols), run, cols);
                        for (int g = 0; g < groups; g++) {
                            rowScales[g] = quantizeGroup(sourceName, run, g * Mxfp4Format.GROUP, codes, g * Mxfp4Format.GROUP_BYTES, expert, first + r, g, lanes);
                        }
                        store(blocks, scales, (long) expert * rows + first + r, groups, codes, rowScales);
                    }
                    continue;
                }
                for (int g = 0; g < groups; g++) {
                    for (int i = 0; i < Mxfp4Format.GROUP; i++) {
                        read(k, dense, orientation.index(expert, first, g * Mxfp4Format.GROUP + i, rows, cols), run, n);
                        for (int r = 0; r < n; r++) tile[r * Mxfp4Format.GROUP + i] = run[r];
                    }
                    for (int r = 0; r < n; r++) {
                        byte scale = quantizeGroup(sourceName, tile, r * Mxfp4Format.GROUP, codes, 0, expert, first + r, g, lanes);
                        long group = ((long) expert * rows + first + r) * groups + g;
                        scales.data().set(ValueLayout.JAVA_BYTE, group, (byte) scale);
                        MemorySegment.copy(codes, 0, blocks.data(), ValueLayout.JAVA_BYTE, group * Mxfp4Format.GROUP_BYTES, Mxfp4Format.GROUP_BYTES);
                    }
                }
            }
        });
    }

    /**
     * {@code n} consecutive elements of {@code dense} from {@code index}, as F32 rounded to BF16
     * (transformers quantizes {@code w.to(bfloat16)}; a BF16 source is already there).
     */
    private static void read(Kernels k, Tensor dense, long index, float[] out, int n) {
        DType dtype = dense.dtype();
        if (dtype == DType.BF16 || dtype == DType.F16 || dtype == DType.F32) {
            k.toFloat(dense.data(), dtype, index, out, 0, n);
        } else {
            for (int i = 0; i < n; i++) out[i] = dense.getFloat(index + i);
        }
        if (dtype != DType.BF16) {
            for (int i = 0; i < n; i++) out[i] = FloatFormats.bf16ToFloat(FloatFormats.floatToBf16(out[i]));
        }
    }

    /** One group of 32 values into {@code codes} at {@code codesOff}; returns its E8M0 scale, or throws naming the weight for Inf/NaN. */
    private static final boolean VECTOR = VectorGroupEncoder.available();

    private static byte quantizeGroup(String sourceName, float[] x, int xOff, byte[] codes, int codesOff, int expert, int row, int group, int[] lanes) {
        int scale = VECTOR ? VectorGroupEncoder.quantizeGroup(x, xOff, codes, codesOff, lanes) : Mxfp4Format.quantizeGroup(x, xOff, codes, codesOff);
        if (scale == Mxfp4Format.SCALE_NAN) throw nonFinite(sourceName, expert, row, group);
        return (byte) scale;
    }

    /** A whole output row's scales and packed codes, each in one copy. */
    private static void store(Tensor blocks, Tensor scales, long row, int groups, byte[] codes, byte[] rowScales) {
        MemorySegment.copy(rowScales, 0, scales.data(), ValueLayout.JAVA_BYTE, row * groups, groups);
        MemorySegment.copy(codes, 0, blocks.data(), ValueLayout.JAVA_BYTE, row * groups * Mxfp4Format.GROUP_BYTES, groups * Mxfp4Format.GROUP_BYTES);
    }

    private static LoadException nonFinite(String sourceName, int expert, int row, int group) {
        return new LoadException(new Problem(ErrorId.E8M0_NAN_SCALE, "expert " + expert + " holds Inf or NaN in output column " + row
                + ", input rows " + group * Mxfp4Format.GROUP + ".." + (group * Mxfp4Format.GROUP + Mxfp4Format.GROUP - 1)
                + ": its MXFP4 scale would be 0xFF (NaN)", null, sourceName, -1));
    }
}
