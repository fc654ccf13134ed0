package dev.qload.core.tensor;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.util.Locale;

/**
 * Private anonymous memory straight from Linux's {@code mmap} with {@code MAP_POPULATE}, for the
 * tensors a load fills completely; opt-in ({@code -Dqload.offheap.pages=populate}), measured by
 * issue 10's load matrix (bench/README.md, docs/BENCHMARKS.md).
 *
 * <p>Why it exists: {@link Arena#allocate} is malloc followed by a pass that writes zeros, and
 * every 4 KiB page costs a trap into the kernel at its first touch (the zeroing pass,
 * {@code SegmentFactories.initNativeMemory}, was 20 % of the JFR samples of an NF4 load).
 * {@code MAP_POPULATE} has the kernel fault the whole range in, already zeroed, inside the call.
 * What it measured on this 2-core VM: the process CPU time of a BF16 load copied into memory drops
 * by 16–23 %, but the wall time does not follow: on a quiet machine it rose (0.57× → 0.75× the
 * read floor), because concurrent {@code mmap} calls serialise on the process's mmap lock while
 * the allocation phase populates. Hence off by default. Plain {@code mmap} without
 * {@code MAP_POPULATE} is worse than malloc for qload (a trap per page during the user-space copy),
 * and {@code MADV_HUGEPAGE} made a read of the checkpoint 2.7× slower (direct compaction at fault).
 *
 * <p>Used only where the JVM allows this module native access ({@code --enable-native-access},
 * as the qload launcher, the CLI jar's manifest and the build's tests do) and on Linux; otherwise
 * {@link OffHeap} falls back to {@code Arena.allocate}. Constants: Linux
 * {@code include/uapi/asm-generic/mman-common.h} (PROT_READ 1, PROT_WRITE 2, MAP_PRIVATE 2,
 * MAP_ANONYMOUS 0x20, MAP_POPULATE 0x8000; the same on x86-64 and arm64).
 */
final class AnonymousPages {
    /** Below this, malloc's heaps are as good and a system call per tensor is not worth it. */
    static final long MIN_BYTES = 1L << 20;
    /** {@code -Dqload.offheap.pages=populate} turns this on. */
    static final String PROPERTY = "qload.offheap.pages";

    private static final int PROT_READ_WRITE = 1 | 2;
    private static final int MAP_PRIVATE_ANONYMOUS = 0x02 | 0x20;
    private static final int MAP_POPULATE = 0x8000;
    private static final MethodHandle MMAP, MUNMAP;

    static {
        MethodHandle mmap = null, munmap = null;
        boolean linux = System.getProperty("os.name", "").toLowerCase(Locale.ROOT).contains("linux");
        if (linux && AnonymousPages.class.getModule().isNativeAccessEnabled()) {
            Linker linker = Linker.nativeLinker();
            var lookup = linker.defaultLookup();
            if (lookup.find("mmap").isPresent() && lookup.find("munmap").isPresent()) {
                mmap = linker.downcallHandle(lookup.find("mmap").get(), FunctionDescriptor.of(ValueLayout.ADDRESS, ValueLayout.ADDRESS,
                        ValueLayout.JAVA_LONG, ValueLayout.JAVA_INT, ValueLayout.JAVA_INT, ValueLayout.JAVA_INT, ValueLayout.JAVA_LONG));
                munmap = linker.downcallHandle(lookup.find("munmap").get(), FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.ADDRESS, ValueLayout.JAVA_LONG));
            }
        }
        MMAP = mmap;
        MUNMAP = munmap;
    }

    private AnonymousPages() {}

    /** Whether {@link #map} may be used for {@code bytes} now (read per call, so a benchmark can switch it). */
    static boolean usable(long bytes) {
        return MMAP != null && bytes >= MIN_BYTES && "populate".equals(System.getProperty(PROPERTY));
    }

    /** {@code bytes} of zero pages, unmapped when {@code arena} closes; null when the kernel refuses (the caller falls back). */
    static MemorySegment map(long bytes, Arena arena) {
        MemorySegment raw;
        try {
            raw = (MemorySegment) MMAP.invokeExact(MemorySegment.NULL, bytes, PROT_READ_WRITE, MAP_PRIVATE_ANONYMOUS | MAP_POPULATE, -1, 0L);
        } catch (Throwable t) {
            throw new IllegalStateException("mmap of " + bytes + " bytes", t);
        }
        if (raw.address() == -1L) return null; // MAP_FAILED
        return raw.reinterpret(bytes, arena, segment -> unmap(segment, bytes));
    }

    private static void unmap(MemorySegment segment, long bytes) {
        int rc;
        try {
            rc = (int) MUNMAP.invokeExact(segment, bytes);
        } catch (Throwable t) {
            throw new IllegalStateException("munmap of " + bytes + " bytes", t);
        }
        if (rc != 0) throw new IllegalStateException("munmap of " + bytes + " bytes failed");
    }
}
