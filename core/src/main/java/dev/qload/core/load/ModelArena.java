package dev.qload.core.load;

import dev.qload.core.tensor.DType;
import dev.qload.core.tensor.OffHeap;
import dev.qload.core.tensor.Shape;
import dev.qload.core.tensor.Tensor;
import java.lang.foreign.Arena;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The memory a loaded model owns: one shared arena for every tensor the load allocates, and the
 * count of its bytes, so that closing it (after use, or when a load fails halfway) frees the memory
 * and takes it off {@link OffHeap}'s live figure in one step. Closing twice does nothing.
 */
final class ModelArena implements AutoCloseable {
    private final Arena arena = Arena.ofShared();
    private final AtomicLong bytes = new AtomicLong();
    private final AtomicBoolean closed = new AtomicBoolean();

    /** A zeroed CPU tensor; safe to call from several threads. Through OffHeap.allocatePages: see there for the opt-in page source. */
    Tensor allocate(Shape shape, DType dtype) {
        Tensor t = Tensor.wrap(shape, dtype, OffHeap.allocatePages(arena, shape.byteSize(dtype)));
        bytes.addAndGet(t.byteSize());
        return t;
    }

    long bytes() {
        return bytes.get();
    }

    @Override
    public void close() {
        if (!closed.compareAndSet(false, true)) return;
        arena.close();
        OffHeap.released(bytes.get());
    }
}
