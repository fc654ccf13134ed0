package dev.qload.quantizers.mxfp4;

import dev.qload.core.kernel.Parallel;
import dev.qload.core.tensor.DType;
import dev.qload.core.tensor.FloatFormats;
import dev.qload.core.tensor.Tensor;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;

/**
 * MXFP4 to dense: experts in HF orientation, as transformers' {@code convert_moe_packed_tensors}
 * (then {@code .transpose(1, 2)}): {@code blocks [E, rows, cols/32, 16]} → {@code dense [E, cols, rows]};
 * or a Linear's {@code [rows, cols]} ({@link DenseOrientation}).
 * The work goes in chunks of {@link #ROWS_PER_CHUNK} rows of one expert: a chunk is decoded into a
 * scratch of {@code ROWS_PER_CHUNK × cols} floats, then written transposed, so consecutive writes
 * land side by side. Memory is the result plus one scratch per worker; values are exact in BF16.
 */
final class Mxfp4ToDense {
    static final int ROWS_PER_CHUNK = 64;
    private static final ValueLayout.OfShort LE_SHORT = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfFloat LE_FLOAT = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    private Mxfp4ToDense() {}

    /** Fills {@code dense} (F32, BF16 or F16, laid out as {@code orientation} says) from {@code packed}. */
    static void fill(PackedWeight packed, Tensor dense, DenseOrientation orientation) {
        int rows = packed.rows(), cols = packed.cols();
        int chunksPerExpert = (rows + ROWS_PER_CHUNK - 1) / ROWS_PER_CHUNK;
        MemorySegment out = dense.data();
        DType dtype = dense.dtype();
        Parallel.forRange(packed.experts() * chunksPerExpert, 1, (from, to) -> {
            float[][] scratch = new float[ROWS_PER_CHUNK][cols];
            for (int chunk = from; chunk < to; chunk++) {
                int expert = chunk / chunksPerExpert, first = chunk % chunksPerExpert * ROWS_PER_CHUNK;
                int n = Math.min(ROWS_PER_CHUNK, rows - first);
                for (int r = 0; r < n; r++) packed.decodeRow(expert, first + r, scratch[r]);
                for (int c = 0; c < cols; c++) {
                    for (int r = 0; r < n; r++) store(out, dtype, orientation.index(expert, first + r, c, rows, cols), scratch[r][c]);
                }
            }
        });
    }

    private static void store(MemorySegment out, DType dtype, long index, float value) {
        switch (dtype) {
            case BF16 -> out.setAtIndex(LE_SHORT, index, FloatFormats.floatToBf16(value));
            case F32 -> out.setAtIndex(LE_FLOAT, index, value);
            case F16 -> out.setAtIndex(LE_SHORT, index, FloatFormats.floatToF16(value));
            default -> throw new IllegalArgumentException("dense experts in " + dtype);
        }
    }
}
