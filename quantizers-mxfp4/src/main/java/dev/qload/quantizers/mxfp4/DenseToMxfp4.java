package dev.qload.quantizers.mxfp4;

import dev.qload.core.error.ErrorId;
import dev.qload.core.error.LoadException;
import dev.qload.core.error.Problem;
import dev.qload.core.kernel.Parallel;
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
        MemorySegment packed = blocks.data(), scaleBytes = scales.data();
        Parallel.forRange(experts * chunksPerExpert, 1, (from, to) -> {
            float[][] tile = new float[ROWS_PER_CHUNK][Mxfp4Format.GROUP];
            byte[] codes = new byte[Mxfp4Format.GROUP_BYTES];
            for (int chunk = from; chunk < to; chunk++) {
                int expert = chunk / chunksPerExpert, first = chunk % chunksPerExpert * ROWS_PER_CHUNK;
                int n = Math.min(ROWS_PER_CHUNK, rows - first);
                for (int g = 0; g < groups; g++) {
                    for (int i = 0; i < Mxfp4Format.GROUP; i++) {
                        for (int r = 0; r < n; r++) {
                            float x = dense.getFloat(orientation.index(expert, first + r, g * Mxfp4Format.GROUP + i, rows, cols));
                            tile[r][i] = FloatFormats.bf16ToFloat(FloatFormats.floatToBf16(x));
                        }
                    }
                    for (int r = 0; r < n; r++) {
                        long group = ((long) expert * rows + first + r) * groups + g;
                        int scale = Mxfp4Format.quantizeGroup(tile[r], 0, codes, 0);
                        if (scale == Mxfp4Format.SCALE_NAN) throw nonFinite(sourceName, expert, first + r, g);
                        scaleBytes.set(ValueLayout.JAVA_BYTE, group, (byte) scale);
                        MemorySegment.copy(codes, 0, packed, ValueLayout.JAVA_BYTE, group * Mxfp4Format.GROUP_BYTES, Mxfp4Format.GROUP_BYTES);
                    }
                }
            }
        });
    }

    private static LoadException nonFinite(String sourceName, int expert, int row, int group) {
        return new LoadException(new Problem(ErrorId.E8M0_NAN_SCALE, "expert " + expert + " holds Inf or NaN in output column " + row
                + ", input rows " + group * Mxfp4Format.GROUP + ".." + (group * Mxfp4Format.GROUP + Mxfp4Format.GROUP - 1)
                + ": its MXFP4 scale would be 0xFF (NaN)", null, sourceName, -1));
    }
}
