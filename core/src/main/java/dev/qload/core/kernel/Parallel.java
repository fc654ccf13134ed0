package dev.qload.core.kernel;

import java.util.concurrent.ForkJoinPool;
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

    public static void forRange(int count, int grain, RangeBody body) {
        if (count <= grain || ForkJoinPool.getCommonPoolParallelism() <= 1) {
            body.run(0, count);
            return;
        }
        ForkJoinPool.commonPool().invoke(new Split(0, count, Math.max(1, grain), body));
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
