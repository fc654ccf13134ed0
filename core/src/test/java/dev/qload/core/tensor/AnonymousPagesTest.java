package dev.qload.core.tensor;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import org.junit.jupiter.api.Test;

/** {@link OffHeap#allocatePages}: zeroed, counted like any allocation, gone when the arena closes; both page sources. */
class AnonymousPagesTest {

    @Test
    void populatedPagesAreOptInAndAvailableWhereNativeAccessIsAllowed() {
        assertTrue(!AnonymousPages.usable(AnonymousPages.MIN_BYTES), "on without being asked for");
        // the build's tests run with --enable-native-access=ALL-UNNAMED (qload.jvm.args), as the CLI does
        withPopulatedPages(() -> assertTrue(AnonymousPages.usable(AnonymousPages.MIN_BYTES), "mmap path unavailable"));
        withPopulatedPages(() -> assertTrue(!AnonymousPages.usable(AnonymousPages.MIN_BYTES - 1), "small requests stay with malloc"));
    }

    @Test
    void largePopulatedAllocationsAreZeroedWritableAndCounted() {
        withPopulatedPages(AnonymousPagesTest::allocationsAreZeroedWritableAndCounted);
    }

    @Test
    void defaultAllocationsAreZeroedWritableAndCounted() {
        allocationsAreZeroedWritableAndCounted();
    }

    private static void withPopulatedPages(Runnable body) {
        System.setProperty(AnonymousPages.PROPERTY, "populate");
        try {
            body.run();
        } finally {
            System.clearProperty(AnonymousPages.PROPERTY);
        }
    }

    private static void allocationsAreZeroedWritableAndCounted() {
        for (long bytes : new long[] {1, 4097, AnonymousPages.MIN_BYTES - 1, AnonymousPages.MIN_BYTES, 3 * AnonymousPages.MIN_BYTES + 4097}) {
            long live = OffHeap.liveBytes(), total = OffHeap.totalAllocatedBytes();
            MemorySegment kept;
            try (Arena arena = Arena.ofShared()) {
                MemorySegment s = OffHeap.allocatePages(arena, bytes);
                kept = s;
                assertEquals(bytes, s.byteSize());
                assertEquals(0, s.address() % OffHeap.ALIGNMENT, "alignment of " + bytes + " bytes");
                for (long i = 0; i < bytes; i += 997) assertEquals(0, s.get(ValueLayout.JAVA_BYTE, i), "byte " + i + " of " + bytes);
                assertEquals(0, s.get(ValueLayout.JAVA_BYTE, bytes - 1));
                s.fill((byte) 7);
                assertEquals(7, s.get(ValueLayout.JAVA_BYTE, bytes - 1));
                assertEquals(live + bytes, OffHeap.liveBytes());
                assertEquals(total + bytes, OffHeap.totalAllocatedBytes());
                OffHeap.released(bytes);
            }
            assertEquals(live, OffHeap.liveBytes());
            MemorySegment closed = kept;
            assertThrows(IllegalStateException.class, () -> closed.get(ValueLayout.JAVA_BYTE, 0), "usable after its arena closed");
        }
    }
}
