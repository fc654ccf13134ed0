package dev.qload.core.tensor;

import java.util.Arrays;

/**
 * Dimensions of a tensor, row-major. Every size computed from it is overflow-checked: a header that
 * claims {@code [2^40, 2^40]} fails with an {@link ArithmeticException} instead of wrapping around.
 */
public final class Shape {
    private final long[] dims;

    private Shape(long[] dims) {
        this.dims = dims;
    }

    public static Shape of(long... dims) {
        for (long d : dims) {
            if (d < 0) throw new IllegalArgumentException("negative dimension " + d + " in " + Arrays.toString(dims));
        }
        return new Shape(dims.clone());
    }

    public int rank() {
        return dims.length;
    }

    public long dim(int i) {
        return dims[i < 0 ? dims.length + i : i];
    }

    public long[] dims() {
        return dims.clone();
    }

    /** Product of the dims (1 for a scalar); throws {@link ArithmeticException} on overflow. */
    public long elementCount() {
        long n = 1;
        for (long d : dims) n = Math.multiplyExact(n, d);
        return n;
    }

    /** Bytes this shape takes in {@code dtype}; throws if sub-byte elements do not end on a byte. */
    public long byteSize(DType dtype) {
        long bits = Math.multiplyExact(elementCount(), (long) dtype.bits());
        if (bits % 8 != 0) throw new IllegalArgumentException(this + " of " + dtype + " does not fill whole bytes");
        return bits / 8;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof Shape s && Arrays.equals(dims, s.dims);
    }

    @Override
    public int hashCode() {
        return Arrays.hashCode(dims);
    }

    @Override
    public String toString() {
        return Arrays.toString(dims);
    }
}
