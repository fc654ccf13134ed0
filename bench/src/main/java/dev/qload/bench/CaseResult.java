package dev.qload.bench;

import java.util.Locale;
import java.util.Map;

/**
 * What the load matrix measured on one checkpoint: every path's statistics, in the case's order,
 * and the load average before and after (the machine is shared; the ratios are what to read).
 */
record CaseResult(LoadCase loadCase, Map<String, PathStats> stats, String loadAverageBefore, String loadAverageAfter) {

    double floorMs() {
        return stats.get(loadCase.paths().getFirst().name()).medianMs();
    }

    /** The path's median process CPU time over the floor's: the ratio least disturbed by other work on the machine. */
    double cpuTimesFloor(String path) {
        return stats.get(path).medianCpuMs() / stats.get(loadCase.paths().getFirst().name()).medianCpuMs();
    }

    double timesFloor(String path) {
        return stats.get(path).medianMs() / floorMs();
    }

    /**
     * Whether {@code path} meets its issue-10 target, in words ("met", "MISSED", or "" when it has
     * none); the ratio behind the verdict is in {@link #targetRatio}.
     */
    String verdict(LoadPath path) {
        double r = targetRatio(path);
        if (Double.isNaN(r)) return "";
        boolean met = switch (path.target()) {
            case RESIDENT, QUANTIZE -> r <= path.target().maxTimesFloor();
            case EAGER -> r >= 3.0;
            case JLAMA -> r > 1.0;
            default -> true;
        };
        return met ? "met" : "MISSED";
    }

    /**
     * The ratio a target is about: × floor for RESIDENT and QUANTIZE; eager ÷ meta for EAGER;
     * Jlama ÷ qload for JLAMA (above 1: qload is faster); NaN for the rest.
     */
    double targetRatio(LoadPath path) {
        return switch (path.target()) {
            case RESIDENT, QUANTIZE -> timesFloor(path.name());
            case EAGER, JLAMA -> stats.get(path.name()).medianMs() / stats.get(path.versus()).medianMs();
            default -> Double.NaN;
        };
    }

    /** "ok", "OVER" (peak anonymous memory above 1.15 × the model's bytes) or "" where there is no model size. */
    String memoryVerdict(LoadPath path) {
        PathStats s = stats.get(path.name());
        if (path.target() == LoadPath.Target.FLOOR || s.modelBytes() == 0) return "";
        return s.peakOverModel() <= LoadPath.MAX_PEAK_OVER_MODEL ? "ok" : "OVER";
    }

    String targetText(LoadPath path) {
        double r = targetRatio(path);
        if (Double.isNaN(r)) return path.target().label;
        return String.format(Locale.ROOT, "%s: %.2f", path.target().label, r);
    }
}
