package dev.qload.quantizers.mxfp4;

import dev.qload.core.kernel.Parallel;
import dev.qload.core.tensor.DType;
import dev.qload.core.tensor.Tensor;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;

/**
 * MXFP4 to dense: experts in HF orientation, as transformers' {@code convert_moe_packed_tensors}
 * (then {@code .transpose(1, 2)}): {@code blocks [E, rows, cols/32, 16]} → {@code dense [E, cols, rows]};
 * or a Linear's {@code [rows, cols]} ({@link DenseOrientation}).
 *
 * <p>The work goes in chunks of {@link #ROWS_PER_CHUNK} rows of one expert. A chunk is decoded row by
 * row into a tile, already in the destination's encoding, looked up in a table of every
 * (scale, code) pair ({@link Mxfp4Format#DECODED}; exact in F32 and BF16). For experts each column
 * of the tile is then one run of the transposed destination, gathered and bulk-copied. Memory is
 * the result plus one tile per worker.
 */
final class Mxfp4ToDense {
    static final int ROWS_PER_CHUNK = 64;
    private static final ValueLayout.OfShort LE_SHORT = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfLong LE_LONG = ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfFloat LE_FLOAT = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    private Mxfp4ToDense() {}

    /** Fills {@code dense} (F32, BF16 or F16, laid out as {@code orientation} says) from {@code packed}. */
    static void fill(PackedWeight packed, Tensor dense, DenseOrientation orientation) {
        int rows = packed.rows(), cols = packed.cols();
        int chunksPerExpert = (rows + ROWS_PER_CHUNK - 1) / ROWS_PER_CHUNK;
        MemorySegment out = dense.data();
        DType dtype = dense.dtype();
        boolean colsMajor = orientation == DenseOrientation.COLS_MAJOR;
        Parallel.forRange(packed.experts() * chunksPerExpert, 1, (from, to) -> {
            Tile tile = new Tile(dtype, ROWS_PER_CHUNK * cols);
            for (int chunk = from; chunk < to; chunk++) {
                int expert = chunk / chunksPerExpert, first = chunk % chunksPerExpert * ROWS_PER_CHUNK;
                int n = Math.min(ROWS_PER_CHUNK, rows - first);
                for (int r = 0; r < n; r++) decodeRow(packed, expert, first + r, tile, r * cols);
                if (colsMajor) { // column c of the chunk is one run of n values in [E, cols, rows]
                    for (int c = 0; c < cols; c++) tile.copyColumnTo(c, cols, n, out, orientation.index(expert, first, c, rows, cols));
                } else { // [rows, cols]: the whole chunk is one run
                    tile.copyTo(out, orientation.index(expert, first, 0, rows, cols), n * cols);
                }
            }
        });
    }

    /** Row {@code row} into the tile from {@code rowOffset} on. */
    private static void decodeRow(PackedWeight packed, int expert, int row, Tile tile, int rowOffset) {
        MemorySegment blocks = packed.blocks();
        long first = packed.group(expert, row, 0);
        for (int g = 0, groups = packed.groups(); g < groups; g++) {
            int s = packed.scale(first + g);
            if (s == Mxfp4Format.SCALE_NAN) throw packed.nanScale(first + g);
            int table = s * 16;
            long at = (first + g) * Mxfp4Format.GROUP_BYTES;
            int c = rowOffset + g * Mxfp4Format.GROUP;
            // 16 bytes as two little-endian longs: nibble k of a long is element k (low nibble first).
            for (int half = 0; half < 2; half++) {
                long nibbles = blocks.get(LE_LONG, at + 8L * half);
                for (int k = 0; k < 16; k++, c++) tile.put(c, table + (int) ((nibbles >>> (4 * k)) & 0x0F));
            }
        }
    }

    /** A chunk of decoded values in the destination's encoding: F32 values, or BF16 / F16 bit patterns. */
    private static final class Tile {
        private final float[] floats, floatRun;
        private final short[] halves, halfRun;
        private final float[] floatTable;
        private final short[] halfTable;

        Tile(DType dtype, int size) {
            this.floats = dtype == DType.F32 ? new float[size] : null;
            this.halves = dtype == DType.F32 ? null : new short[size];
            this.floatRun = dtype == DType.F32 ? new float[ROWS_PER_CHUNK] : null;
            this.halfRun = dtype == DType.F32 ? null : new short[ROWS_PER_CHUNK];
            this.floatTable = Mxfp4Format.DECODED;
            this.halfTable = switch (dtype) {
                case F32 -> null;
                case BF16 -> Mxfp4Format.DECODED_BF16;
                case F16 -> Mxfp4Format.DECODED_F16;
                default -> throw new IllegalArgumentException("dense weights in " + dtype);
            };
        }

        /** Element {@code at} := table entry {@code scale · 16 + code}. */
        void put(int at, int entry) {
            if (halves != null) halves[at] = halfTable[entry];
            else floats[at] = floatTable[entry];
        }

        /** Elements [0, count) to {@code out} from element {@code index} on. */
        void copyTo(MemorySegment out, long index, int count) {
            if (halves != null) MemorySegment.copy(halves, 0, out, LE_SHORT, index * 2, count);
            else MemorySegment.copy(floats, 0, out, LE_FLOAT, index * 4, count);
        }

        /**
         * Column {@code c} of the tile's {@code n} rows of {@code cols} to {@code out} from element {@code index}
         * on: gathered into a run first (reading down a column touches n cache lines, which the next
         * columns reuse), then one bulk copy.
         */
        void copyColumnTo(int c, int cols, int n, MemorySegment out, long index) {
            if (halves != null) {
                for (int r = 0; r < n; r++) halfRun[r] = halves[r * cols + c];
                MemorySegment.copy(halfRun, 0, out, LE_SHORT, index * 2, n);
            } else {
                for (int r = 0; r < n; r++) floatRun[r] = floats[r * cols + c];
                MemorySegment.copy(floatRun, 0, out, LE_FLOAT, index * 4, n);
            }
        }
    }
}
