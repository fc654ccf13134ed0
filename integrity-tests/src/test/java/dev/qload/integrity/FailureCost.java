package dev.qload.integrity;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * What each hostile case cost to end, measured by the test that ran it and written as a Markdown
 * table for docs/INTEGRITY.md. Measured, never asserted: a test suite on a shared machine is no
 * place for timing limits.
 */
final class FailureCost {
    record Row(String name, String cause, String outcome, double millis, long heapBytes, long offHeapPeakBytes) {}

    private final List<Row> rows = new ArrayList<>();
    private final String title;
    private final String causeColumn;

    /** @param causeColumn what the second column holds: the rule a file breaks, or the fault injected */
    FailureCost(String title, String causeColumn) {
        this.title = title;
        this.causeColumn = causeColumn;
    }

    synchronized void add(Row row) {
        rows.add(row);
    }

    /** Writes {@code <measurements>/<file>}: one row per case in the order they ran. */
    synchronized void write(String file) {
        StringBuilder md = new StringBuilder("## ").append(title).append("\n\n")
                .append("| case | ").append(causeColumn).append(" | outcome | time to fail (ms) | heap allocated | peak off-heap |\n|---|---|---|---:|---:|---:|\n");
        for (Row r : rows) {
            md.append(String.format(Locale.ROOT, "| `%s` | %s | `%s` | %.2f | %s | %s |%n", r.name, r.cause, r.outcome, r.millis, bytes(r.heapBytes),
                    bytes(r.offHeapPeakBytes)));
        }
        try {
            Files.createDirectories(Repo.measurements());
            Files.writeString(Repo.measurements().resolve(file), md.toString());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    static String bytes(long n) {
        if (n < 1024) return n + " B";
        if (n < 1024 * 1024) return String.format(Locale.ROOT, "%.1f KiB", n / 1024.0);
        return String.format(Locale.ROOT, "%.1f MiB", n / (1024.0 * 1024));
    }
}
