package dev.qload.quantizers.mxfp4;

import dev.qload.core.error.ErrorId;
import dev.qload.core.error.LoadException;
import dev.qload.core.error.Problem;
import dev.qload.core.tensor.Tensor;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * One fused MXFP4 weight of every expert, as loaded: {@code blocks [E, rows, cols/32, 16]} and
 * {@code scales [E, rows, cols/32]} (layout in {@link Mxfp4Format}), with the names of those
 * tensors for error messages. Rows are nn.Linear's output features, columns its input features.
 */
record PackedWeight(String scalesName, MemorySegment blocks, MemorySegment scales, int experts, int rows, int cols) {
    private static final ValueLayout.OfLong LE_LONG = ValueLayout.JAVA_LONG_UNALIGNED.withOrder(java.nio.ByteOrder.LITTLE_ENDIAN);

    static PackedWeight of(String scalesName, Tensor blocks, Tensor scales) {
        int experts = Math.toIntExact(scales.shape().dim(0)), rows = Math.toIntExact(scales.shape().dim(1));
        int cols = Math.multiplyExact(Math.toIntExact(scales.shape().dim(2)), Mxfp4Format.GROUP);
        return new PackedWeight(scalesName, blocks.data(), scales.data(), experts, rows, cols);
    }

    int groups() {
        return cols / Mxfp4Format.GROUP;
    }

    /** Index of group {@code g} of row {@code row} of expert {@code expert}, in groups. */
    long group(int expert, int row, int g) {
        return ((long) expert * rows + row) * groups() + g;
    }

    int scale(long group) {
        return scales.get(ValueLayout.JAVA_BYTE, group) & 0xFF;
    }

    int packed(long group, int b) {
        return blocks.get(ValueLayout.JAVA_BYTE, group * Mxfp4Format.GROUP_BYTES + b) & 0xFF;
    }

    /**
     * Row {@code row} of expert {@code expert}, decoded into {@code out[0, cols)}; a NaN scale fails naming it.
     * The plain reference decode, element by element, that the fixtures pin; {@link Mxfp4ToDense} is the fast one.
     */
    void decodeRow(int expert, int row, float[] out) {
        for (int g = 0, n = groups(); g < n; g++) {
            long group = group(expert, row, g);
            int s = scale(group);
            if (s == Mxfp4Format.SCALE_NAN) throw nanScale(group);
            float scale = Mxfp4Format.SCALE[s];
            for (int b = 0; b < Mxfp4Format.GROUP_BYTES; b++) {
                int p = packed(group, b);
                out[g * Mxfp4Format.GROUP + 2 * b] = Mxfp4Format.BYTE_PAIRS[2 * p] * scale;
                out[g * Mxfp4Format.GROUP + 2 * b + 1] = Mxfp4Format.BYTE_PAIRS[2 * p + 1] * scale;
            }
        }
    }

    /**
     * Fails naming the first scale byte 0xFF (E8M0 NaN), if there is one. Eight bytes at a time: a
     * long holds a 0xFF byte exactly when its complement holds a zero byte, which the classic
     * {@code (x − 0x01…01) & ~x & 0x80…80} test finds; the byte itself is then located one by one.
     */
    void requireNoNanScale() {
        long n = scales.byteSize(), words = n / 8;
        for (long w = 0; w < words; w++) {
            long complement = ~scales.get(LE_LONG, w * 8);
            if (((complement - 0x0101010101010101L) & ~complement & 0x8080808080808080L) != 0) requireNoNanScale(w * 8, w * 8 + 8);
        }
        requireNoNanScale(words * 8, n);
    }

    private void requireNoNanScale(long from, long to) {
        for (long i = from; i < to; i++) if (scale(i) == Mxfp4Format.SCALE_NAN) throw nanScale(i);
    }

    /**
     * OCP MX v1.0 defines scale 0xFF as NaN for the whole group; transformers' {@code torch.ldexp}
     * would turn it into ±inf and NaN. Neither is a weight anyone meant to ship, so it is refused.
     */
    LoadException nanScale(long group) {
        long expert = group / ((long) rows * groups()), row = group / groups() % rows, g = group % groups();
        return new LoadException(new Problem(ErrorId.E8M0_NAN_SCALE, "scale byte 0xFF (E8M0 NaN) for expert " + expert + ", row " + row
                + ", group " + g + " (element [" + expert + ", " + row + ", " + g + "] of [" + experts + ", " + rows + ", " + groups()
                + "]): the checkpoint's MXFP4 weights are corrupt", null, scalesName, -1));
    }
}
