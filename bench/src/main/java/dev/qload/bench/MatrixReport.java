package dev.qload.bench;

import java.util.List;
import java.util.Locale;

/** The load matrix as text: the table printed on stdout and the JSON written beside the chart. */
final class MatrixReport {
    private MatrixReport() {}

    static String table(CaseResult r) {
        StringBuilder b = new StringBuilder();
        LoadCase c = r.loadCase();
        b.append(String.format(Locale.ROOT, "%n== %s: %s%n   %s; load average before %s, after %s%n", c.name(), c.description(), c.dir(),
                r.loadAverageBefore(), r.loadAverageAfter()));
        b.append(String.format(Locale.ROOT, "%-46s %9s %8s %7s %8s %7s %9s %9s %6s  %-28s %s%n", "path", "median ms", "spread", "x floor", "cpu ms",
                "cpu x", "peak anon", "model MB", "peak/", "target: ratio", "verdict"));
        b.append(String.format(Locale.ROOT, "%-46s %9s %8s %7s %8s %7s %9s %9s %6s%n", "", "", "ms", "", "median", "floor", "MB", "", "model"));
        for (LoadPath p : c.paths()) {
            PathStats s = r.stats().get(p.name());
            String verdict = (r.verdict(p) + " " + (r.memoryVerdict(p).isEmpty() ? "" : "mem " + r.memoryVerdict(p))).strip();
            b.append(String.format(Locale.ROOT, "%-46s %9.1f %8.1f %7.2f %8.1f %7.2f %9.1f %9s %6s  %-28s %s%n", p.name(), s.medianMs(), s.spreadMs(),
                    r.timesFloor(p.name()), s.medianCpuMs(), r.cpuTimesFloor(p.name()), s.peakAnonBytes() / 1e6, s.modelBytes() == 0 ? "-" : String.format(Locale.ROOT, "%.1f", s.modelBytes() / 1e6),
                    s.modelBytes() == 0 ? "-" : String.format(Locale.ROOT, "%.2f", s.peakOverModel()), r.targetText(p), verdict));
        }
        return b.toString();
    }

    static String json(String command, String header, List<CaseResult> results) {
        StringBuilder b = new StringBuilder("{\n");
        b.append("  \"command\": ").append(quote(command)).append(",\n");
        b.append("  \"run\": ").append(quote(header)).append(",\n");
        b.append("  \"cases\": [");
        for (int i = 0; i < results.size(); i++) {
            CaseResult r = results.get(i);
            LoadCase c = r.loadCase();
            b.append(i == 0 ? "\n" : ",\n").append("    {\"name\": ").append(quote(c.name())).append(", \"description\": ").append(quote(c.description()))
                    .append(", \"load_average_before\": ").append(quote(r.loadAverageBefore())).append(", \"load_average_after\": ")
                    .append(quote(r.loadAverageAfter())).append(", \"floor_ms\": ").append(number(r.floorMs())).append(", \"paths\": [");
            for (int j = 0; j < c.paths().size(); j++) {
                LoadPath p = c.paths().get(j);
                PathStats s = r.stats().get(p.name());
                b.append(j == 0 ? "\n" : ",\n").append("      {\"name\": ").append(quote(p.name()))
                        .append(", \"target\": ").append(quote(p.target().name().toLowerCase(Locale.ROOT)))
                        .append(", \"versus\": ").append(p.versus() == null ? "null" : quote(p.versus()))
                        .append(", \"median_ms\": ").append(number(s.medianMs()))
                        .append(", \"min_ms\": ").append(number(s.minMs()))
                        .append(", \"max_ms\": ").append(number(s.maxMs()))
                        .append(", \"runs\": ").append(s.runs())
                        .append(", \"times_floor\": ").append(number(r.timesFloor(p.name())))
                        .append(", \"median_cpu_ms\": ").append(number(s.medianCpuMs()))
                        .append(", \"cpu_times_floor\": ").append(number(r.cpuTimesFloor(p.name())))
                        .append(", \"peak_anon_bytes\": ").append(s.peakAnonBytes())
                        .append(", \"model_bytes\": ").append(s.modelBytes())
                        .append(", \"target_ratio\": ").append(number(r.targetRatio(p)))
                        .append(", \"verdict\": ").append(quote(r.verdict(p)))
                        .append(", \"memory_verdict\": ").append(quote(r.memoryVerdict(p))).append('}');
            }
            b.append("\n    ]}");
        }
        return b.append("\n  ]\n}\n").toString();
    }

    private static String number(double v) {
        return Double.isFinite(v) ? String.format(Locale.ROOT, "%.4f", v) : "null";
    }

    static String quote(String s) {
        StringBuilder b = new StringBuilder("\"");
        for (char ch : s.toCharArray()) {
            switch (ch) {
                case '"' -> b.append("\\\"");
                case '\\' -> b.append("\\\\");
                case '\n' -> b.append("\\n");
                default -> {
                    if (ch < 0x20) b.append(String.format(Locale.ROOT, "\\u%04x", (int) ch));
                    else b.append(ch);
                }
            }
        }
        return b.append('"').toString();
    }
}
