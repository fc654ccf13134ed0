package dev.qload.bench;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The physical floors a load is measured against, each split into one contiguous range per core
 * on platform threads: reading a checkpoint's bytes from the page cache into private memory,
 * touching every page of a mapping of them, and writing as many fresh bytes as a load allocates.
 * Each returns a {@link LoadSample} with the peak rise of anonymous memory during it.
 */
final class PageCacheFloor {
    /** Where a read floor puts the bytes. */
    enum Destination {
        /** {@link Arena#allocate}: malloc, then zeros written, as qload's ModelArena allocates. */
        ARENA,
        /** {@code mmap} of anonymous memory: zero pages from the kernel, written once by the read. */
        MMAP,
        /** The same, advised {@code MADV_HUGEPAGE}. */
        MMAP_HUGE,
        /** The same with {@code MAP_POPULATE}: faulted in by the kernel in the mmap call. */
        MMAP_POPULATE;

        MemorySegment allocate(long bytes, Arena arena) {
            return switch (this) {
                case ARENA -> arena.allocate(bytes, 64);
                case MMAP -> AnonymousMemory.map(bytes, false, false, arena);
                case MMAP_HUGE -> AnonymousMemory.map(bytes, true, false, arena);
                case MMAP_POPULATE -> AnonymousMemory.map(bytes, false, true, arena);
            };
        }
    }

    private static final long PAGE = 4096;

    private PageCacheFloor() {}

    static int threads() {
        return Runtime.getRuntime().availableProcessors();
    }

    /** Every byte of every file read (FileChannel, positional) into private memory of {@code destination}. */
    static LoadSample read(List<Path> files, Destination destination) {
        return overFiles(files, (f, arena, workers, sink) -> {
            long size = Files.size(f);
            MemorySegment dst = destination.allocate(size, arena);
            forEachRange(size, workers, (from, to) -> {
                try (FileChannel ch = FileChannel.open(f, StandardOpenOption.READ)) {
                    var buf = dst.asSlice(from, to - from).asByteBuffer();
                    long pos = from;
                    while (buf.hasRemaining()) pos += ch.read(buf, pos);
                    sink.addAndGet(dst.get(ValueLayout.JAVA_BYTE, from));
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                }
            });
            return size;
        });
    }

    /**
     * Every file mapped and one byte of every 4 KiB page read, so that every page table entry is
     * filled from the page cache: what a load that uses the mapping in place costs once its weights
     * are first used. With {@code prefetch}, {@link MemorySegment#load()} (madvise WILLNEED, then a
     * touch of each page by the JDK) runs on each range first, instead of the touching loop.
     */
    static LoadSample touchMapping(List<Path> files, boolean prefetch) {
        return overFiles(files, (f, arena, workers, sink) -> {
            MemorySegment map;
            try (FileChannel ch = FileChannel.open(f, StandardOpenOption.READ)) {
                map = ch.map(FileChannel.MapMode.READ_ONLY, 0, ch.size(), arena);
            }
            forEachRange(map.byteSize(), workers, (from, to) -> {
                if (prefetch) {
                    map.asSlice(from, to - from).load();
                    return;
                }
                long s = 0;
                for (long p = from; p < to; p += PAGE) s += map.get(ValueLayout.JAVA_BYTE, p);
                sink.addAndGet(s);
            });
            return map.byteSize();
        });
    }

    /** Starts the threads for one file (adding them to {@code workers}); returns the file's bytes. */
    private interface FileWork {
        long start(Path file, Arena arena, List<Thread> workers, AtomicLong sink) throws IOException;
    }

    /** One timed run of {@code work} over every file, its threads joined, inside one arena closed afterwards. */
    private static LoadSample overFiles(List<Path> files, FileWork work) {
        RunClock clock = RunClock.start();
        long total = 0;
        try (Arena arena = Arena.ofShared()) {
            List<Thread> workers = new ArrayList<>();
            AtomicLong sink = new AtomicLong();
            for (Path f : files) total += work.start(f, arena, workers, sink);
            join(workers);
            return clock.stop(total);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** {@code bytes} of fresh private memory from {@link Arena#allocate} (zeroed) and filled once. */
    static LoadSample write(long bytes) {
        RunClock clock = RunClock.start();
        try (Arena arena = Arena.ofShared()) {
            MemorySegment dst = arena.allocate(bytes, 64);
            List<Thread> workers = new ArrayList<>();
            forEachRange(bytes, workers, (from, to) -> dst.asSlice(from, to - from).fill((byte) 1));
            join(workers);
            return clock.stop(bytes);
        }
    }

    private interface Range {
        void run(long from, long to);
    }

    /** Starts one platform thread per core on consecutive ranges of {@code size} bytes, adding them to {@code workers}. */
    private static void forEachRange(long size, List<Thread> workers, Range range) {
        int threads = threads();
        // whole pages per thread, so that no two threads fault the same page
        long chunk = Math.ceilDiv(Math.ceilDiv(size, threads), PAGE) * PAGE;
        for (int t = 0; t < threads; t++) {
            long from = t * chunk, to = Math.min(size, from + chunk);
            if (from < to) workers.add(Thread.ofPlatform().start(() -> range.run(from, to)));
        }
    }

    private static void join(List<Thread> workers) {
        try {
            for (Thread w : workers) w.join();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }
}
