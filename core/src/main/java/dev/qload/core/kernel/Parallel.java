package dev.qload.core.kernel;

import java.util.concurrent.ForkJoinPool;
import java.util.concurrent.ForkJoinTask;
import java.util.concurrent.RecursiveAction;

/**
 * Splits a range of independent work items (rows of a matrix product, heads of attention) across
 * the common fork-join pool, in chunks no smaller than {@code grain} so that small work stays on
 * the calling thread.
 */
public final class Parallel {
    @FunctionalInterface
    public interface RangeBody {
        void run(int from, int to);
    }

    private Parallel() {}

    /**
     * Runs {@code body} over [0, count). Inside a fork-join pool (the loader's workers) the split
     * stays in that pool, so a quantize kernel called by the loader shares the loader's threads;
     * elsewhere it uses the common pool.
     */
    public static void forRange(int count, int grain, RangeBody body) {
        if (count <= grain) {
            body.run(0, count);
            return;
        }
        Split split = new Split(0, count, Math.max(1, grain), body);
        if (ForkJoinTask.inForkJoinPool()) split.invoke();
        // Not getCommonPoolParallelism(): on 2 cores the common pool has one worker, and the caller
        // plus that worker is one thread per core (bench/README.md: mat-vec 11.0 → 19.9 GB/s).
        else if (Runtime.getRuntime().availableProcessors() <= 1) body.run(0, count);
        else ForkJoinPool.commonPool().invoke(split);
    }

    private static final class Split extends RecursiveAction {
        private final int from, to, grain;
        private final RangeBody body;

        Split(int from, int to, int grain, RangeBody body) {
            this.from = from;
            this.to = to;
            this.grain = grain;
            this.body = body;
        }

        @Override
        protected void compute() {
            if (to - from <= grain) {
                body.run(from, to);
                return;
            }
            int mid = (from + to) >>> 1;
            invokeAll(new Split(from, mid, grain, body), new Split(mid, to, grain, body));
        }
    }
}
