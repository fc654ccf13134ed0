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
 *
 * <p>The work goes in chunks of {@link #ROWS_PER_CHUNK} rows of one expert. A chunk is decoded into
 * a tile already laid out as the destination wants it (for experts: column by column, the chunk's
 * rows side by side) and already in the destination's encoding, through a 16-entry table per group
 * (the group's scale times each E2M1 value, rounded once; exact in F32 and BF16). Each run of the
 * tile then lands with one bulk copy. Memory is the result plus one tile per worker.
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
        if (dtype != DType.F32 && dtype != DType.BF16 && dtype != DType.F16) throw new IllegalArgumentException("dense weights in " + dtype);
        Parallel.forRange(packed.experts() * chunksPerExpert, 1, (from, to) -> {
            Tile tile = new Tile(dtype, ROWS_PER_CHUNK * cols);
            byte[] bytes = new byte[Mxfp4Format.GROUP_BYTES];
            for (int chunk = from; chunk < to; chunk++) {
                int expert = chunk / chunksPerExpert, first = chunk % chunksPerExpert * ROWS_PER_CHUNK;
                int n = Math.min(ROWS_PER_CHUNK, rows - first);
                for (int r = 0; r < n; r++) decodeRow(packed, expert, first + r, tile, bytes, orientation == DenseOrientation.COLS_MAJOR
                        ? c -> c * n : c -> c, orientation == DenseOrientation.COLS_MAJOR ? r : r * cols);
                if (orientation == DenseOrientation.COLS_MAJOR) {
                    for (int c = 0; c < cols; c++) tile.copyTo(c * n, out, orientation.index(expert, first, c, rows, cols), n);
                } else {
                    tile.copyTo(0, out, orientation.index(expert, first, 0, rows, cols), n * cols);
                }
            }
        });
    }

    /** Where column {@code c} of a row goes in the tile, before adding the row's own offset. */
    @FunctionalInterface
    private interface ColumnIndex {
        int of(int c);
    }

    private static void decodeRow(PackedWeight packed, int expert, int row, Tile tile, byte[] bytes, ColumnIndex column, int rowOffset) {
        for (int g = 0, groups = packed.groups(); g < groups; g++) {
            long group = packed.group(expert, row, g);
            int s = packed.scale(group);
            if (s == Mxfp4Format.SCALE_NAN) throw packed.nanScale(group);
            tile.useScale(s);
            MemorySegment.copy(packed.blocks(), ValueLayout.JAVA_BYTE, group * Mxfp4Format.GROUP_BYTES, bytes, 0, Mxfp4Format.GROUP_BYTES);
            int c = g * Mxfp4Format.GROUP;
            for (int b = 0; b < Mxfp4Format.GROUP_BYTES; b++, c += 2) {
                tile.put(column.of(c) + rowOffset, bytes[b] & 0x0F); // low nibble: the even element
                tile.put(column.of(c + 1) + rowOffset, (bytes[b] >>> 4) & 0x0F);
            }
        }
    }

    /** A chunk of decoded values in the destination's encoding: F32 values, or BF16 / F16 bit patterns. */
    private static final class Tile {
        private final DType dtype;
        private final float[] floats;
        private final short[] halves;
        private final float[] valueOf = new float[16];
        private final short[] halfOf = new short[16];

        Tile(DType dtype, int size) {
            this.dtype = dtype;
            this.floats = dtype == DType.F32 ? new float[size] : null;
            this.halves = dtype == DType.F32 ? null : new short[size];
        }

        /** The 16 values of the next group: E2M1 code value times 2^(scale − 127), exact. */
        void useScale(int scale) {
            for (int code = 0; code < 16; code++) {
                float v = Mxfp4Format.E2M1[code] * Mxfp4Format.SCALE[scale];
                valueOf[code] = v;
                halfOf[code] = dtype == DType.BF16 ? FloatFormats.floatToBf16(v) : dtype == DType.F16 ? FloatFormats.floatToF16(v) : 0;
            }
        }

        void put(int at, int code) {
            if (floats != null) floats[at] = valueOf[code];
            else halves[at] = halfOf[code];
        }

        void copyTo(int from, MemorySegment out, long index, int count) {
            if (floats != null) MemorySegment.copy(floats, from, out, LE_FLOAT, index * 4, count);
            else MemorySegment.copy(halves, from, out, LE_SHORT, index * 2, count);
        }
    }
}
