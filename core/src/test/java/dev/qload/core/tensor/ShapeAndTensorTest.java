package dev.qload.core.tensor;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.qload.core.nn.Linear;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.util.Random;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.Test;

class ShapeAndTensorTest {
    private static final ValueLayout.OfShort I16 = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfInt I32 = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfFloat F32 = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    // ---------------------------------------------------------------- Shape

    @Test
    void elementCountOverflowThrows() {
        Shape huge = Shape.of(1L << 40, 1L << 40);
        assertThrows(ArithmeticException.class, huge::elementCount);
        assertThrows(ArithmeticException.class, () -> huge.byteSize(DType.U8));
        assertThrows(ArithmeticException.class, () -> Tensor.meta(huge, DType.F32));
    }

    @Test
    void byteSizeOverflowThrowsEvenWhenTheElementCountFits() {
        Shape s = Shape.of(1L << 61);
        assertEquals(1L << 61, s.elementCount());
        assertThrows(ArithmeticException.class, () -> s.byteSize(DType.F32));
    }

    @Test
    void negativeDimensionsAreRejected() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Shape.of(3, -1));
        assertTrue(e.getMessage().contains("-1"), e.getMessage());
    }

    @Test
    void subByteSizesMustFillWholeBytes() {
        assertThrows(IllegalArgumentException.class, () -> Shape.of(3).byteSize(DType.F4));
        assertThrows(IllegalArgumentException.class, () -> Shape.of(1, 5).byteSize(DType.F4));
        assertEquals(2, Shape.of(4).byteSize(DType.F4));
        assertEquals(3, Shape.of(4).byteSize(DType.F6_E2M3));
        assertThrows(IllegalArgumentException.class, () -> Shape.of(2).byteSize(DType.F6_E3M2));
    }

    @Test
    void scalarsAndEmptyShapesCount() {
        assertEquals(1, Shape.of().elementCount());
        assertEquals(8, Shape.of().byteSize(DType.F64));
        assertEquals(0, Shape.of(0, 7).elementCount());
    }

    @Test
    void shapeIsImmutable() {
        long[] dims = {2, 3};
        Shape s = Shape.of(dims);
        dims[0] = 99;
        s.dims()[1] = 99;
        assertEquals(Shape.of(2, 3), s);
        assertEquals(3, s.dim(-1));
    }

    // ---------------------------------------------------------------- Tensor views

    @Test
    void narrowSharesStorageBothWays() {
        try (Arena arena = Arena.ofConfined()) {
            Tensor t = Tensor.allocate(Shape.of(4, 3), DType.F32, arena);
            Tensor rows = t.narrow(1, 2); // elements 3..8
            assertEquals(Shape.of(2, 3), rows.shape());
            rows.setFloat(0, 7f);
            assertEquals(7f, t.getFloat(3));
            t.setFloat(8, 9f);
            assertEquals(9f, rows.getFloat(5));
            assertEquals(0f, t.getFloat(9), "outside the narrowed rows nothing changed");
            assertThrows(IndexOutOfBoundsException.class, () -> t.narrow(3, 2));
            assertThrows(IndexOutOfBoundsException.class, () -> t.narrow(-1, 1));
        }
    }

    @Test
    void viewSharesStorageBothWays() {
        try (Arena arena = Arena.ofConfined()) {
            Tensor t = Tensor.allocate(Shape.of(2, 6), DType.BF16, arena);
            Tensor flat = t.view(Shape.of(3, 4));
            flat.setFloat(11, 2.5f);
            assertEquals(2.5f, t.getFloat(11));
            t.setFloat(0, -1f);
            assertEquals(-1f, flat.getFloat(0));
            assertThrows(IllegalArgumentException.class, () -> t.view(Shape.of(5)));
        }
    }

    @Test
    void narrowOfMetaStaysMetaAndMetaHasNoData() {
        Tensor m = Tensor.meta(Shape.of(8, 2), DType.F16);
        Tensor n = m.narrow(2, 3);
        assertTrue(n.isMeta());
        assertEquals(Shape.of(3, 2), n.shape());
        assertThrows(IllegalStateException.class, m::data);
    }

    // ---------------------------------------------------------------- FloatFormats

    private static short bf16(int floatBits) {
        return FloatFormats.floatToBf16(Float.intBitsToFloat(floatBits));
    }

    @Test
    void bf16RoundsToNearestEvenWithHandDerivedBits() {
        assertEquals((short) 0x3F80, bf16(0x3F800000));          // 1.0 exactly
        assertEquals((short) 0x3F80, bf16(0x3F808000));          // 1.00390625: tie, 0x3F80 is even → stays
        assertEquals((short) 0x3F82, bf16(0x3F818000));          // tie, 0x3F81 is odd → up to even
        assertEquals((short) 0x3F81, bf16(0x3F808001));          // above half → up
        assertEquals((short) 0x3F80, bf16(0x3F807FFF));          // below half → down
        assertEquals((short) 0xBF82, bf16(0xBF818000));          // negative tie, odd → away to even
        assertEquals((short) 0xBF80, bf16(0xBF808000));          // negative tie, even → stays
        assertEquals((short) 0x7F80, bf16(0x7F7FFFFF));          // largest finite float → +Inf
        assertEquals((short) 0xFF80, bf16(0xFF7FFFFF));          // most negative finite → -Inf
        assertEquals((short) 0x7F7F, bf16(0x7F7F7FFF));          // just below the rounding point stays finite
        assertEquals((short) 0x7F80, bf16(0x7F800000));          // +Inf
        assertEquals((short) 0x8000, bf16(0x80000000));          // -0.0
        assertEquals((short) 0x0000, bf16(0x00008000));          // subnormal tie, even → 0
        assertEquals((short) 0x0002, bf16(0x00018000));          // subnormal tie, odd → up
        assertEquals((short) 0x0080, bf16(0x007FFFFF));          // largest subnormal rounds up to the smallest normal
        assertEquals((short) 0x4049, bf16(0x40490FDB));          // pi
    }

    @Test
    void bf16NaNIsAlwaysTheQuietNaN() {
        assertEquals((short) 0x7FC0, bf16(0x7FC00000));
        assertEquals((short) 0x7FC0, bf16(0x7F800001));          // signalling NaN: naive rounding would give +Inf
        assertEquals((short) 0x7FC0, bf16(0xFFFFFFFF));          // negative NaN with a full payload: naive rounding would carry out
        assertEquals((short) 0x7FC0, bf16(0x7FFFFFFF));
    }

    @Test
    void bf16ToFloatIsTheUpperHalf() {
        assertEquals(1.0f, FloatFormats.bf16ToFloat((short) 0x3F80));
        assertEquals(Float.intBitsToFloat(0xC0490000), FloatFormats.bf16ToFloat((short) 0xC049));
        assertEquals(Float.NEGATIVE_INFINITY, FloatFormats.bf16ToFloat((short) 0xFF80));
        assertTrue(Float.isNaN(FloatFormats.bf16ToFloat((short) 0x7FC0)));
    }

    @Test
    void f16RoundsToNearestEvenWithHandDerivedBits() {
        assertEquals((short) 0x3C00, FloatFormats.floatToF16(1.0f));
        assertEquals((short) 0xC000, FloatFormats.floatToF16(-2.0f));
        assertEquals((short) 0x7BFF, FloatFormats.floatToF16(65504f));           // largest finite half
        assertEquals((short) 0x7BFF, FloatFormats.floatToF16(65519.99f));        // just below the half-way point
        assertEquals((short) 0x7C00, FloatFormats.floatToF16(65520f));           // tie with 65536 → even → +Inf
        assertEquals((short) 0x3C00, FloatFormats.floatToF16(1f + 0x1p-11f));    // tie, even mantissa → stays
        assertEquals((short) 0x3C02, FloatFormats.floatToF16(1f + 3 * 0x1p-11f));// tie, odd → up
        assertEquals((short) 0x0001, FloatFormats.floatToF16(0x1p-24f));         // smallest subnormal
        assertEquals((short) 0x0000, FloatFormats.floatToF16(0x1p-25f));         // tie with 0 → even → 0
        assertEquals((short) 0x0002, FloatFormats.floatToF16(3 * 0x1p-25f));     // tie between 1 and 2 → 2
        short nan = FloatFormats.floatToF16(Float.NaN);
        assertEquals(0x7C00, nan & 0x7C00);
        assertTrue((nan & 0x03FF) != 0);
        assertEquals(1.0f, FloatFormats.f16ToFloat((short) 0x3C00));
        assertEquals(0x1p-24f, FloatFormats.f16ToFloat((short) 0x0001));
        for (float f : new float[] {0.1f, -3.7f, 1e-5f, 70000f, Float.MIN_VALUE}) {
            assertEquals(Float.floatToFloat16(f), FloatFormats.floatToF16(f), "F16 of " + f + " is the JDK's");
        }
    }

    // ---------------------------------------------------------------- DTypeConverter

    private static int[] awkwardFloats(int n) {
        Random r = new Random(20260301);
        int[] bits = new int[n];
        int[] specials = {0x00000000, 0x80000000, 0x7F800000, 0xFF800000, 0x7FC00000, 0x7F800001, 0x3F808000, 0x3F818000, 0x7F7FFFFF, 0x00000001,
                0x477FF000, 0x477FEFFF, 0x33000000};
        System.arraycopy(specials, 0, bits, 0, specials.length);
        for (int i = specials.length; i < n; i++) {
            bits[i] = switch (i % 3) {
                case 0 -> r.nextInt();                                              // anything, NaNs and subnormals included
                case 1 -> Float.floatToRawIntBits((float) r.nextGaussian());        // typical weights
                default -> Float.floatToRawIntBits((float) (r.nextGaussian() * 70000)); // around the F16 range limit
            };
        }
        return bits;
    }

    @Test
    void converterMatchesFloatFormatsElementWise() {
        int n = 400;
        int[] bits = awkwardFloats(n);
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment f32 = arena.allocate(4L * n);
            for (int i = 0; i < n; i++) f32.setAtIndex(I32, i, bits[i]);
            for (DType half : new DType[] {DType.BF16, DType.F16}) {
                MemorySegment h = arena.allocate(2L * n);
                DTypeConverter.convert(f32, DType.F32, h, half, 0, n);
                MemorySegment back = arena.allocate(4L * n);
                DTypeConverter.convert(h, half, back, DType.F32, 0, n);
                for (int i = 0; i < n; i++) {
                    float v = Float.intBitsToFloat(bits[i]);
                    short want = half == DType.BF16 ? FloatFormats.floatToBf16(v) : FloatFormats.floatToF16(v);
                    short got = h.getAtIndex(I16, i);
                    assertEquals(want, got, half + " of 0x" + Integer.toHexString(bits[i]));
                    float wantBack = half == DType.BF16 ? FloatFormats.bf16ToFloat(got) : FloatFormats.f16ToFloat(got);
                    assertEquals(Float.floatToRawIntBits(wantBack), back.getAtIndex(I32, i), half + " back of 0x" + Integer.toHexString(bits[i]));
                }
            }
        }
    }

    @Test
    void converterTouchesOnlyTheRequestedRange() {
        int n = 64;
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment src = arena.allocate(4L * n);
            for (int i = 0; i < n; i++) src.setAtIndex(F32, i, i + 0.5f);
            MemorySegment dst = arena.allocate(2L * n);
            dst.fill((byte) 0x55);
            DTypeConverter.convert(src, DType.F32, dst, DType.BF16, 7, 20);
            for (int i = 0; i < n; i++) {
                short want = i >= 7 && i < 27 ? FloatFormats.floatToBf16(i + 0.5f) : (short) 0x5555;
                assertEquals(want, dst.getAtIndex(I16, i), "element " + i);
            }
        }
    }

    @Test
    void converterRefusesNonFloatTypes() {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment s = arena.allocate(16);
            assertThrows(IllegalArgumentException.class, () -> DTypeConverter.convert(s, DType.I32, s, DType.F32, 0, 2));
            assertThrows(IllegalArgumentException.class, () -> DTypeConverter.convert(s, DType.F32, s, DType.I8, 0, 2));
        }
    }

    // ---------------------------------------------------------------- MetaDevice

    @Test
    void emptyInsideTheMetaScopeAllocatesNothing() {
        long before = OffHeap.totalAllocatedBytes();
        Tensor t = MetaDevice.withMetaDevice(() -> Tensor.empty(Shape.of(100_000, 100_000), DType.F32));
        Linear big = MetaDevice.withMetaDevice(() -> new Linear(50_000, 50_000, true, DType.BF16));
        assertEquals(before, OffHeap.totalAllocatedBytes(), "40 GB of META tensors cost nothing");
        assertEquals(Device.META, t.device());
        assertTrue(big.weight().isMeta() && big.bias().isMeta());
        assertEquals(40_000_000_000L, t.byteSize());
    }

    @Test
    void emptyOutsideTheMetaScopeIsCpuAndCounted() {
        assertFalse(MetaDevice.isMetaScope());
        long before = OffHeap.totalAllocatedBytes();
        Tensor t = Tensor.empty(Shape.of(4, 4), DType.F32);
        assertEquals(Device.CPU, t.device());
        assertEquals(before + 64, OffHeap.totalAllocatedBytes());
    }

    @Test
    void metaScopeEndsWithTheCallEvenWhenItThrows() {
        assertThrows(IllegalStateException.class, () -> MetaDevice.withMetaDevice(() -> {
            assertTrue(MetaDevice.isMetaScope());
            throw new IllegalStateException("boom");
        }));
        assertFalse(MetaDevice.isMetaScope());
        assertEquals(Device.CPU, MetaDevice.withMetaDevice(() -> MetaDevice.withDevice(Device.CPU, MetaDevice::currentDevice)),
                "an inner scope overrides the outer one");
    }

    @Test
    void metaScopeDoesNotLeakIntoExecutorOrPlainThreads() throws Exception {
        AtomicBoolean threadSawMeta = new AtomicBoolean(true);
        boolean[] executorSawMeta = new boolean[1];
        Device[] executorDevice = new Device[1];
        MetaDevice.withMetaDevice(() -> {
            assertTrue(MetaDevice.isMetaScope());
            ExecutorService pool = Executors.newSingleThreadExecutor(); // its thread starts inside the scope
            try {
                executorSawMeta[0] = pool.submit(MetaDevice::isMetaScope).get();
                executorDevice[0] = pool.submit(() -> Tensor.empty(Shape.of(2), DType.F32).device()).get();
                Thread t = new Thread(() -> threadSawMeta.set(MetaDevice.isMetaScope()));
                t.start();
                t.join();
            } catch (Exception e) {
                throw new AssertionError(e);
            } finally {
                pool.shutdownNow();
            }
        });
        assertFalse(executorSawMeta[0], "a pool thread must not see the caller's meta scope");
        assertEquals(Device.CPU, executorDevice[0]);
        assertFalse(threadSawMeta.get(), "a plain thread must not see the caller's meta scope");
    }

    @Test
    void ofFloatsAndToFloatArrayRoundTrip() {
        float[] v = {1f, -2.5f, 3.25f, 0f, Float.MIN_VALUE, -0f};
        assertArrayEquals(v, Tensor.ofFloats(Shape.of(2, 3), v).toFloatArray());
        assertThrows(IllegalArgumentException.class, () -> Tensor.ofFloats(Shape.of(2, 2), v));
    }
}
