package dev.qload.core.kernel;

import java.util.concurrent.ExecutorService;
import java.util.concurrent.TimeUnit;

/** Shutting down the loader's own thread pools. */
public final class Pools {
    private Pools() {}

    /**
     * Waits until no task of a shut-down pool runs any more, so that nobody still reads a mapping its
     * owner is about to close; an interrupt is remembered and restored, not allowed to cut the wait.
     */
    public static void awaitQuietly(ExecutorService pool) {
        boolean interrupted = false;
        try {
            while (true) {
                try {
                    if (pool.awaitTermination(1, TimeUnit.SECONDS)) return;
                } catch (InterruptedException e) {
                    interrupted = true;
                }
            }
        } finally {
            if (interrupted) Thread.currentThread().interrupt();
        }
    }
}
