package dev.qload.core.tensor;

import java.lang.foreign.MemorySegment;

/**
 * Converts runs of elements between the float formats a checkpoint may hold and the dtype the
 * model asks for (F32, F16, BF16, F64), reading straight from the source segment (usually a mapped
 * file) into the target. Rounding: to nearest even, as {@code torch.Tensor.to(dtype)} does.
 */
public final class DTypeConverter {
    private DTypeConverter() {}

    /** Converts {@code count} elements starting at element {@code first} of both segments. */
    public static void convert(MemorySegment src, DType from, MemorySegment dst, DType to, long first, long count) {
        if (from == to) {
            long width = from.bits() / 8;
            MemorySegment.copy(src, first * width, dst, first * width, count * width);
            return;
        }
        if (!from.isConvertibleFloat() || !to.isConvertibleFloat()) {
            throw new IllegalArgumentException("no conversion from " + from + " to " + to);
        }
        long end = first + count;
        if (to == DType.F32) {
            switch (from) {
                case BF16 -> { for (long i = first; i < end; i++) dst.setAtIndex(Tensor.F32, i, FloatFormats.bf16ToFloat(src.getAtIndex(Tensor.I16, i))); }
                case F16 -> { for (long i = first; i < end; i++) dst.setAtIndex(Tensor.F32, i, FloatFormats.f16ToFloat(src.getAtIndex(Tensor.I16, i))); }
                default -> { for (long i = first; i < end; i++) dst.setAtIndex(Tensor.F32, i, (float) src.getAtIndex(Tensor.F64, i)); }
            }
            return;
        }
        for (long i = first; i < end; i++) {
            double v = switch (from) {
                case F32 -> src.getAtIndex(Tensor.F32, i);
                case BF16 -> FloatFormats.bf16ToFloat(src.getAtIndex(Tensor.I16, i));
                case F16 -> FloatFormats.f16ToFloat(src.getAtIndex(Tensor.I16, i));
                default -> src.getAtIndex(Tensor.F64, i);
            };
            switch (to) {
                // F64 → BF16/F16 goes through F32 first, as torch does for these casts.
                case BF16 -> dst.setAtIndex(Tensor.I16, i, FloatFormats.floatToBf16((float) v));
                case F16 -> dst.setAtIndex(Tensor.I16, i, FloatFormats.floatToF16((float) v));
                case F64 -> dst.setAtIndex(Tensor.F64, i, v);
                default -> throw new IllegalStateException();
            }
        }
    }
}
