package dev.qload.cli;

import dev.qload.core.load.LoadReport;
import dev.qload.core.load.ProgressListener;
import java.io.PrintStream;

/**
 * A one-line progress bar on the terminal's stderr, for loads that take more than a moment: it
 * stays silent for the first half second and when stderr is not a terminal, and redraws at most
 * ten times a second.
 */
final class ProgressBar implements ProgressListener {
    private static final long QUIET_NANOS = 500_000_000L;
    private static final long REDRAW_NANOS = 100_000_000L;
    private static final int WIDTH = 30;

    private final PrintStream err;
    private final boolean enabled;
    private final long start = System.nanoTime();
    private volatile long lastDraw;
    private volatile boolean drawn;

    ProgressBar(PrintStream err, boolean enabled) {
        this.err = err;
        this.enabled = enabled;
    }

    static ProgressBar forTerminal() {
        return new ProgressBar(System.err, System.console() != null && System.console().isTerminal());
    }

    @Override
    public void progress(long done, long total) {
        if (!enabled || total <= 0) return;
        long now = System.nanoTime();
        if (now - start < QUIET_NANOS || (now - lastDraw < REDRAW_NANOS && done < total)) return;
        synchronized (this) {
            lastDraw = now;
            drawn = true;
            int filled = (int) Math.min(WIDTH, WIDTH * done / total);
            err.printf("\r  loading [%s%s] %3d%%  %s / %s", "#".repeat(filled), " ".repeat(WIDTH - filled),
                    100 * done / total, LoadReport.bytes(done), LoadReport.bytes(total));
            err.flush();
        }
    }

    /** Clears the bar's line so the report starts on a clean one. */
    void finish() {
        if (drawn) {
            err.print("\r" + " ".repeat(WIDTH + 50) + "\r");
            err.flush();
        }
    }
}
