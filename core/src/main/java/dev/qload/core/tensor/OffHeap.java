package dev.qload.core.tensor;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The one place tensor storage is allocated. It counts live and peak bytes, which is how the meta
 * scope's "zero bytes" promise and the load report's peak off-heap figure are measured rather than
 * assumed. Memory from an {@link Arena} is returned when the arena closes, so owners call
 * {@link #released} for what they free.
 */
public final class OffHeap {
    /** 64-byte alignment: one cache line, and enough for any SIMD load. */
    public static final long ALIGNMENT = 64;

    private static final AtomicLong LIVE = new AtomicLong();
    private static final AtomicLong PEAK = new AtomicLong();
    private static final AtomicLong TOTAL = new AtomicLong();

    private OffHeap() {}

    public static MemorySegment allocate(Arena arena, long bytes) {
        return counted(arena.allocate(Math.max(bytes, 1), ALIGNMENT).asSlice(0, bytes));
    }

    /**
     * Like {@link #allocate}, for storage its caller overwrites completely. With
     * {@code -Dqload.offheap.pages=populate}, large requests get zero pages populated by the kernel
     * instead of malloc plus a zeroing pass (see {@link AnonymousPages}: less CPU, not less wall
     * time, so off by default); the result is zeroed either way. Issue 10.
     */
    public static MemorySegment allocatePages(Arena arena, long bytes) {
        MemorySegment segment = AnonymousPages.usable(bytes) ? AnonymousPages.map(bytes, arena) : null;
        return segment == null ? allocate(arena, bytes) : counted(segment);
    }

    private static MemorySegment counted(MemorySegment segment) {
        long bytes = segment.byteSize();
        TOTAL.addAndGet(bytes);
        long live = LIVE.addAndGet(bytes);
        PEAK.accumulateAndGet(live, Math::max);
        return segment;
    }

    public static void released(long bytes) {
        LIVE.addAndGet(-bytes);
    }

    /** Bytes ever allocated through this class: a test takes the difference around an operation. */
    public static long totalAllocatedBytes() {
        return TOTAL.get();
    }

    public static long liveBytes() {
        return LIVE.get();
    }

    public static long peakBytes() {
        return PEAK.get();
    }

    /** Starts a new peak measurement from the current live figure. */
    public static void resetPeak() {
        PEAK.set(LIVE.get());
    }
}
