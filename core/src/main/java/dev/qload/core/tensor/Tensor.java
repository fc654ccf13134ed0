package dev.qload.core.tensor;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.util.Objects;

/**
 * A shape, a dtype, a device and, off META, the bytes: a {@link MemorySegment} in little-endian
 * row-major order (the safetensors layout, so a mapped file region is a tensor as it is).
 * Views share the segment; nothing here copies unless its name says so.
 */
public final class Tensor {
    static final ValueLayout.OfFloat F32 = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    static final ValueLayout.OfShort I16 = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    static final ValueLayout.OfInt I32 = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    static final ValueLayout.OfLong I64 = ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    static final ValueLayout.OfDouble F64 = ValueLayout.JAVA_DOUBLE_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    private final Shape shape;
    private final DType dtype;
    private final MemorySegment data; // null on META

    private Tensor(Shape shape, DType dtype, MemorySegment data) {
        this.shape = Objects.requireNonNull(shape);
        this.dtype = Objects.requireNonNull(dtype);
        this.data = data;
    }

    /** A tensor with no storage. Never allocates. */
    public static Tensor meta(Shape shape, DType dtype) {
        shape.byteSize(dtype); // validates the size is representable
        return new Tensor(shape, dtype, null);
    }

    /**
     * A new tensor on the current default device: META inside {@link MetaDevice#withMetaDevice},
     * otherwise uninitialised CPU memory managed by the garbage collector.
     */
    public static Tensor empty(Shape shape, DType dtype) {
        if (MetaDevice.isMetaScope()) return meta(shape, dtype);
        return allocate(shape, dtype, Arena.ofAuto());
    }

    /** A new zero-filled CPU tensor in {@code arena}, whatever the current scope. */
    public static Tensor allocate(Shape shape, DType dtype, Arena arena) {
        return new Tensor(shape, dtype, OffHeap.allocate(arena, shape.byteSize(dtype)));
    }

    /** A CPU tensor over existing bytes (a mapped file region, say). The sizes must agree. */
    public static Tensor wrap(Shape shape, DType dtype, MemorySegment data) {
        long expected = shape.byteSize(dtype);
        if (data.byteSize() != expected) {
            throw new IllegalArgumentException(shape + " of " + dtype + " needs " + expected + " bytes, segment has " + data.byteSize());
        }
        return new Tensor(shape, dtype, data);
    }

    /** An F32 CPU tensor holding a copy of {@code values}. */
    public static Tensor ofFloats(Shape shape, float... values) {
        if (shape.elementCount() != values.length) throw new IllegalArgumentException(shape + " holds " + shape.elementCount() + " values, got " + values.length);
        Tensor t = allocate(shape, DType.F32, Arena.ofAuto());
        MemorySegment.copy(values, 0, t.data, F32, 0, values.length);
        return t;
    }

    public Shape shape() {
        return shape;
    }

    public DType dtype() {
        return dtype;
    }

    public Device device() {
        return data == null ? Device.META : Device.CPU;
    }

    public boolean isMeta() {
        return data == null;
    }

    public long elementCount() {
        return shape.elementCount();
    }

    public long byteSize() {
        return shape.byteSize(dtype);
    }

    /** The bytes. A META tensor has none, and asking is a programming error. */
    public MemorySegment data() {
        if (data == null) throw new IllegalStateException("tensor " + shape + " " + dtype + " is on META: it has no data");
        return data;
    }

    /** The same bytes seen with another shape of the same element count. */
    public Tensor view(Shape newShape) {
        if (newShape.elementCount() != shape.elementCount()) {
            throw new IllegalArgumentException("cannot view " + shape + " as " + newShape);
        }
        return new Tensor(newShape, dtype, data);
    }

    /** Rows {@code [start, start+length)} along dimension 0, sharing storage. */
    public Tensor narrow(long start, long length) {
        if (shape.rank() == 0 || start < 0 || length < 0 || start + length > shape.dim(0)) {
            throw new IndexOutOfBoundsException("rows [" + start + ", " + (start + length) + ") of " + shape);
        }
        long[] dims = shape.dims();
        dims[0] = length;
        Shape sub = Shape.of(dims);
        if (data == null) return new Tensor(sub, dtype, null);
        long rowBytes = shape.byteSize(dtype) / Math.max(shape.dim(0), 1);
        return new Tensor(sub, dtype, data.asSlice(start * rowBytes, length * rowBytes));
    }

    /** Element {@code index} (row-major) as a float, for every numeric dtype of at least 8 bits. */
    public float getFloat(long index) {
        MemorySegment d = data();
        return switch (dtype) {
            case F32 -> d.getAtIndex(F32, index);
            case F16 -> FloatFormats.f16ToFloat(d.getAtIndex(I16, index));
            case BF16 -> FloatFormats.bf16ToFloat(d.getAtIndex(I16, index));
            case F64 -> (float) d.getAtIndex(F64, index);
            case I8 -> d.get(ValueLayout.JAVA_BYTE, index);
            case U8, BOOL -> d.get(ValueLayout.JAVA_BYTE, index) & 0xFF;
            case I16 -> d.getAtIndex(I16, index);
            case U16 -> d.getAtIndex(I16, index) & 0xFFFF;
            case I32 -> d.getAtIndex(I32, index);
            case U32 -> d.getAtIndex(I32, index) & 0xFFFFFFFFL;
            case I64, U64 -> d.getAtIndex(I64, index);
            default -> throw new UnsupportedOperationException("getFloat on " + dtype);
        };
    }

    /** Stores {@code value} at {@code index}, rounding to the dtype (F32, F16, BF16, F64). */
    public void setFloat(long index, float value) {
        MemorySegment d = data();
        switch (dtype) {
            case F32 -> d.setAtIndex(F32, index, value);
            case F16 -> d.setAtIndex(I16, index, FloatFormats.floatToF16(value));
            case BF16 -> d.setAtIndex(I16, index, FloatFormats.floatToBf16(value));
            case F64 -> d.setAtIndex(F64, index, value);
            default -> throw new UnsupportedOperationException("setFloat on " + dtype);
        }
    }

    /** A copy of every element as float: for tests and small tensors. */
    public float[] toFloatArray() {
        long n = elementCount();
        if (n > Integer.MAX_VALUE - 8) throw new IllegalStateException("tensor too large for a float[]: " + shape);
        float[] out = new float[(int) n];
        for (int i = 0; i < out.length; i++) out[i] = getFloat(i);
        return out;
    }

    @Override
    public String toString() {
        return "Tensor" + shape + " " + dtype + " on " + device();
    }
}
