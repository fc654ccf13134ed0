package dev.qload.core.load;

import dev.qload.core.checkpoint.CheckpointTensor;
import dev.qload.core.error.ErrorId;
import dev.qload.core.error.LoadException;
import dev.qload.core.error.Problem;
import dev.qload.core.error.QLoadException;
import dev.qload.core.module.NamedSlot;
import dev.qload.core.tensor.DTypeConverter;
import dev.qload.core.tensor.Tensor;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.ForkJoinPool;
import java.util.concurrent.ForkJoinWorkerThread;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.BooleanSupplier;
import java.util.function.Consumer;
import java.util.function.Function;

/**
 * Gives every planned target its storage, once, in parallel. Zero-copy targets become views of the
 * mapping; the others get one allocation each (made in parallel, since the allocator zeroes), then
 * copy, conversion and quantization work runs in chunks ordered by file offset, so the threads
 * sweep the files front to back. Slots are only set once every task succeeded: a failed load
 * leaves no half-filled model behind.
 *
 * <p>Work that reads the same mappings (hashing the files, when the load verifies them) runs on the
 * same workers, submitted before the materialize work so that the longest tasks start first; it is
 * joined, its failures reported and its results checked before any slot is set. No such task is
 * still running when {@link #run} returns or throws, so the caller may close the mappings at once.
 */
final class Materializer {
    /** Work unit for copies and conversions: big enough to amortise a task, small enough to balance. */
    static final long CHUNK_BYTES = 4L << 20;
    private static final int MAX_SPANS = 20_000;

    private final LoadOptions options;
    private final ModelArena arena;
    private final String quantizer; // the quantizer's name, for messages; null when none
    private final long loadStart;
    private final AtomicLong bytesDone = new AtomicLong();
    private final ConcurrentLinkedQueue<TaskSpan> spans = new ConcurrentLinkedQueue<>();
    private final AtomicInteger spanCount = new AtomicInteger();
    private volatile long workDoneNanos;
    private final AtomicLong sideFirstStart = new AtomicLong(Long.MAX_VALUE);
    private final AtomicLong sideLastEnd = new AtomicLong(Long.MIN_VALUE);

    /** Work run alongside the materialization on its workers; {@code body} polls its argument and stops when it turns true. */
    record SideTask<T>(String name, Function<BooleanSupplier, T> body) {}

    Materializer(LoadOptions options, ModelArena arena, long loadStart, String quantizer) {
        this.options = options;
        this.arena = arena;
        this.quantizer = quantizer;
        this.loadStart = loadStart;
    }

    List<TaskSpan> spans() {
        return new ArrayList<>(spans);
    }

    void run(LoadPlan plan) {
        run(plan, List.<SideTask<Void>>of(), results -> { });
    }

    /** When the materialize work (not the side tasks) finished, in {@link System#nanoTime()}; 0 before. */
    long workDoneNanos() {
        return workDoneNanos;
    }

    /** The span from the first side task's start to the last one's end, as a phase; null when none ran. */
    Phase sidePhase(String name) {
        long first = sideFirstStart.get(), last = sideLastEnd.get();
        return first == Long.MAX_VALUE || last == Long.MIN_VALUE ? null : new Phase(name, first - loadStart, last - first);
    }

    /**
     * Materializes {@code plan} with {@code alongside} on the same workers; hands the results of
     * {@code alongside}, in order, to {@code check}, which may throw to fail the load before any slot is set.
     */
    <T> void run(LoadPlan plan, List<SideTask<T>> alongside, Consumer<List<T>> check) {
        // A fork-join pool, so that kernels which split their own work (Parallel.forRange) run on these
        // same workers instead of queueing behind the common pool.
        AtomicInteger threadNumber = new AtomicInteger();
        ExecutorService pool = new ForkJoinPool(options.threads(), p -> {
            ForkJoinWorkerThread t = ForkJoinPool.defaultForkJoinWorkerThreadFactory.newThread(p);
            t.setName("qload-load-" + threadNumber.incrementAndGet());
            t.setDaemon(true);
            return t;
        }, null, false);
        AtomicBoolean abandon = new AtomicBoolean();
        try {
            List<Future<T>> side = new ArrayList<>(alongside.size());
            for (SideTask<T> task : alongside) side.add(pool.submit(() -> runSide(task, abandon)));
            Map<NamedSlot, Tensor> results = allocate(plan, pool);
            long total = plan.sourceBytes() - plan.mappedBytes();
            List<Callable<Void>> work = new ArrayList<>();
            for (PlannedLoad load : plan.loads()) {
                switch (load) {
                    case PlannedLoad.Fill f when f.kind() == PlannedLoad.FillKind.ZERO_COPY -> results.put(f.target(), f.source().view());
                    case PlannedLoad.Fill f -> addChunks(work, f, results.get(f.target()), total);
                    case PlannedLoad.Quantize q -> work.add(() -> {
                        Map<String, Tensor> targets = new LinkedHashMap<>();
                        for (NamedSlot ns : q.targets()) targets.put(ns.slot().name(), results.get(ns));
                        timed(q.source(), "quantize " + q.source().name(), () -> q.kernel().quantize(q.source().view(), targets));
                        options.progress().progress(bytesDone.addAndGet(q.source().info().byteLength()), total);
                        return null;
                    });
                }
            }
            runAll(pool, work);
            workDoneNanos = System.nanoTime();
            check.accept(collect(side));
            results.forEach((slot, tensor) -> slot.slot().set(tensor));
        } finally {
            abandon.set(true);
            pool.shutdownNow();
            // Always wait: after a failure or an interrupt, tasks still running would otherwise read mappings
            // and write arena memory the caller is about to close (issue 9, faults mid-load).
            dev.qload.core.kernel.Pools.awaitQuietly(pool);
        }
    }

    private <T> T runSide(SideTask<T> task, AtomicBoolean abandon) {
        long start = System.nanoTime();
        sideFirstStart.accumulateAndGet(start, Math::min);
        try {
            return task.body().apply(abandon::get);
        } finally {
            long end = System.nanoTime();
            sideLastEnd.accumulateAndGet(end, Math::max);
            spans.add(new TaskSpan(task.name(), Thread.currentThread().getName(), start - loadStart, end - start));
        }
    }


    private Map<NamedSlot, Tensor> allocate(LoadPlan plan, ExecutorService pool) {
        List<NamedSlot> needed = new ArrayList<>();
        for (PlannedLoad load : plan.loads()) {
            switch (load) {
                case PlannedLoad.Fill f when f.kind() != PlannedLoad.FillKind.ZERO_COPY -> needed.add(f.target());
                case PlannedLoad.Quantize q -> needed.addAll(q.targets());
                default -> { }
            }
        }
        Map<NamedSlot, Tensor> results = new java.util.concurrent.ConcurrentHashMap<>();
        List<Callable<Void>> tasks = new ArrayList<>();
        for (NamedSlot ns : needed) {
            tasks.add(() -> {
                Tensor meta = ns.slot().get();
                results.put(ns, arena.allocate(meta.shape(), meta.dtype()));
                return null;
            });
        }
        runAll(pool, tasks);
        return new LinkedHashMap<>(results);
    }

    private void addChunks(List<Callable<Void>> work, PlannedLoad.Fill fill, Tensor target, long total) {
        CheckpointTensor src = fill.source();
        MemorySegment from = src.file().bytes(src.info());
        MemorySegment to = target.data();
        if (fill.kind() == PlannedLoad.FillKind.COPY) {
            long length = from.byteSize();
            for (long at = 0; at < length || at == 0; at += CHUNK_BYTES) {
                long start = at, n = Math.min(CHUNK_BYTES, length - at);
                work.add(() -> {
                    timed(src, "copy " + src.name(), () -> MemorySegment.copy(from, start, to, start, n));
                    options.progress().progress(bytesDone.addAndGet(n), total);
                    return null;
                });
                if (length == 0) break;
            }
            return;
        }
        long elements = target.elementCount();
        long widest = Math.max(src.info().dtype().bits(), target.dtype().bits()) / 8;
        long perChunk = Math.max(1, CHUNK_BYTES / widest);
        long srcWidth = src.info().dtype().bits() / 8;
        for (long first = 0; first < elements; first += perChunk) {
            long start = first, n = Math.min(perChunk, elements - first);
            work.add(() -> {
                timed(src, "convert " + src.name(), () -> DTypeConverter.convert(from, src.info().dtype(), to, target.dtype(), start, n));
                options.progress().progress(bytesDone.addAndGet(n * srcWidth), total);
                return null;
            });
        }
    }

    private void timed(CheckpointTensor src, String name, Runnable body) {
        long start = System.nanoTime();
        try {
            body.run();
        } catch (InternalError e) {
            // A mapped file truncated or changed after it was validated faults on access (SIGBUS).
            throw new LoadException(Problem.inFile(ErrorId.MAPPED_FILE_CHANGED, "the file was truncated or changed while loading: " + e.getMessage(),
                    src.file().path(), src.name(), src.fileOffset()), e);
        } catch (QLoadException e) {
            throw e;
        } catch (RuntimeException e) {
            // A plugin's kernel that breaks: say which tensor it was working on and whose kernel it was.
            String who = quantizer == null ? "" : "quantizer '" + quantizer + "' failed: ";
            throw new LoadException(Problem.inFile(ErrorId.MATERIALIZE_FAILED, name + ": " + who + e, src.file().path(), src.name(),
                    src.fileOffset()), e);
        }
        if (spanCount.incrementAndGet() <= MAX_SPANS) {
            spans.add(new TaskSpan(name, Thread.currentThread().getName(), start - loadStart, System.nanoTime() - start));
        }
    }

    /** Runs every task; collects every failure into one exception. */
    private static void runAll(ExecutorService pool, List<Callable<Void>> tasks) {
        if (tasks.isEmpty()) return;
        List<Future<Void>> futures;
        try {
            futures = pool.invokeAll(tasks);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new LoadException(Problem.of(ErrorId.MATERIALIZE_FAILED, "interrupted while loading"), e);
        }
        collect(futures);
    }

    /** Waits for every future; returns their results, or collects every failure into one exception. */
    private static <T> List<T> collect(List<Future<T>> futures) {
        List<T> values = new ArrayList<>(futures.size());
        List<Problem> problems = new ArrayList<>();
        Throwable first = null;
        for (Future<T> f : futures) {
            try {
                values.add(f.get());
            } catch (ExecutionException e) {
                Throwable cause = e.getCause();
                if (first == null) first = cause;
                if (cause instanceof QLoadException q) problems.addAll(q.problems());
                else problems.add(Problem.of(ErrorId.MATERIALIZE_FAILED, cause.toString()));
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                problems.add(Problem.of(ErrorId.MATERIALIZE_FAILED, "interrupted while loading"));
            }
        }
        if (!problems.isEmpty()) throw new LoadException(problems.subList(0, Math.min(problems.size(), 50)), first);
        return values;
    }
}
