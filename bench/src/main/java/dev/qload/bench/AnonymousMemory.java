package dev.qload.bench;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;

/**
 * Private anonymous memory straight from {@code mmap}, optionally advised {@code MADV_HUGEPAGE}:
 * the two alternatives to {@link Arena#allocate} (malloc, then a pass that writes zeros) that the
 * load matrix measures. The kernel hands out anonymous pages already zeroed, so a destination
 * mapped this way is written once, by the copy; and on this machine transparent huge pages are in
 * {@code madvise} mode, so only an advised range gets 2 MiB pages (one fault per 2 MiB instead of
 * 512).
 *
 * <p>Constants from Linux's {@code include/uapi/asm-generic/mman-common.h} and
 * {@code mman.h} (x86-64): PROT_READ 1, PROT_WRITE 2, MAP_PRIVATE 2, MAP_ANONYMOUS 0x20,
 * MADV_HUGEPAGE 14. Not portable beyond Linux; the benchmark only runs there.
 */
final class AnonymousMemory {
    private static final int PROT_READ_WRITE = 1 | 2;
    private static final int MAP_PRIVATE_ANONYMOUS = 0x02 | 0x20;
    private static final int MADV_HUGEPAGE = 14;
    private static final int MAP_POPULATE = 0x8000;
    static final long HUGE_PAGE = 2L << 20;

    private static final Linker LINKER = Linker.nativeLinker();
    private static final MethodHandle MMAP = LINKER.downcallHandle(LINKER.defaultLookup().find("mmap").orElseThrow(),
            FunctionDescriptor.of(ValueLayout.ADDRESS, ValueLayout.ADDRESS, ValueLayout.JAVA_LONG, ValueLayout.JAVA_INT,
                    ValueLayout.JAVA_INT, ValueLayout.JAVA_INT, ValueLayout.JAVA_LONG));
    private static final MethodHandle MUNMAP = LINKER.downcallHandle(LINKER.defaultLookup().find("munmap").orElseThrow(),
            FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.ADDRESS, ValueLayout.JAVA_LONG));
    private static final MethodHandle MADVISE = LINKER.downcallHandle(LINKER.defaultLookup().find("madvise").orElseThrow(),
            FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.ADDRESS, ValueLayout.JAVA_LONG, ValueLayout.JAVA_INT));

    private static final MethodHandle MALLOC_TRIM = LINKER.downcallHandle(LINKER.defaultLookup().find("malloc_trim").orElseThrow(),
            FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.JAVA_LONG));

    private AnonymousMemory() {}

    /**
     * Hands the memory that glibc's malloc keeps after {@code free} back to the kernel
     * ({@code malloc_trim(0)}). Tensors under malloc's mmap threshold (32 MiB at most) come from
     * its heaps, which it keeps once freed: without this, a load right after another reuses pages
     * that are already resident, RssAnon does not rise, and both its time (no page faults) and its
     * peak memory would read low against a floor that gets fresh pages.
     */
    static void releaseFreedMalloc() {
        try {
            int ignored = (int) MALLOC_TRIM.invokeExact(0L);
        } catch (Throwable t) {
            throw new IllegalStateException(t);
        }
    }

    /**
     * {@code bytes} of zeroed private memory, unmapped when {@code arena} closes; advised
     * MADV_HUGEPAGE when asked; with {@code populate}, MAP_POPULATE: every page faulted in by the
     * kernel within the call, in one pass, instead of one trap per 4 KiB page at first touch.
     */
    static MemorySegment map(long bytes, boolean hugePages, boolean populate, Arena arena) {
        try {
            int flags = MAP_PRIVATE_ANONYMOUS | (populate ? MAP_POPULATE : 0);
            MemorySegment raw = (MemorySegment) MMAP.invokeExact(MemorySegment.NULL, bytes, PROT_READ_WRITE, flags, -1, 0L);
            if (raw.address() == -1L) throw new IllegalStateException("mmap of " + bytes + " bytes failed");
            if (hugePages) {
                int rc = (int) MADVISE.invokeExact(raw, bytes, MADV_HUGEPAGE);
                if (rc != 0) throw new IllegalStateException("madvise(MADV_HUGEPAGE) failed: " + rc);
            }
            return raw.reinterpret(bytes, arena, segment -> unmap(segment, bytes));
        } catch (RuntimeException | Error e) {
            throw e;
        } catch (Throwable t) {
            throw new IllegalStateException(t);
        }
    }

    private static void unmap(MemorySegment segment, long bytes) {
        try {
            int rc = (int) MUNMAP.invokeExact(segment, bytes);
            if (rc != 0) throw new IllegalStateException("munmap failed: " + rc);
        } catch (RuntimeException | Error e) {
            throw e;
        } catch (Throwable t) {
            throw new IllegalStateException(t);
        }
    }
}
