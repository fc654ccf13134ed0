package dev.qload.integrity;

import dev.qload.core.tensor.OffHeap;
import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * What a load may leave behind, read before and after it: off-heap bytes still counted live
 * ({@link OffHeap}), files of a directory still memory-mapped (Linux {@code /proc/self/maps}: a
 * mapping the loader forgot to close shows there even when no Java object refers to it any more),
 * and the heap bytes every thread has allocated so far (how much a failure cost).
 */
record ResourceSnapshot(long offHeapLive, long heapAllocated, List<String> mappedFiles) {
    private static final Path MAPS = Path.of("/proc/self/maps");

    static ResourceSnapshot of(Path directory) {
        return new ResourceSnapshot(OffHeap.liveBytes(), totalHeapAllocated(), mappedUnder(directory));
    }

    /** Whether mappings can be observed at all here (Linux); elsewhere the mapping check is skipped. */
    static boolean canSeeMappings() {
        return Files.isReadable(MAPS);
    }

    /** Heap bytes allocated by every thread of the JVM so far (HotSpot's total allocation counter). */
    static long totalHeapAllocated() {
        var threads = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
        return threads.getTotalThreadAllocatedBytes();
    }

    /** The distinct files under {@code directory} that are mapped into this process now. */
    static List<String> mappedUnder(Path directory) {
        if (!canSeeMappings()) return List.of();
        String prefix = directory.toAbsolutePath().normalize().toString();
        try {
            return Files.readAllLines(MAPS).stream()
                    .map(line -> line.indexOf('/') < 0 ? "" : line.substring(line.indexOf('/')))
                    .filter(path -> path.startsWith(prefix))
                    .distinct().sorted().toList();
        } catch (IOException e) {
            throw new IllegalStateException("cannot read " + MAPS, e);
        }
    }
}
