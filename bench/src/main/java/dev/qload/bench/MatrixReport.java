package dev.qload.bench;

import dev.qload.core.config.Json;
import java.util.List;
import java.util.Locale;
import tools.jackson.databind.node.ArrayNode;
import tools.jackson.databind.node.ObjectNode;

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
        ObjectNode root = Json.STRICT.createObjectNode();
        root.put("command", command);
        root.put("run", header);
        ArrayNode cases = root.putArray("cases");
        for (CaseResult r : results) {
            LoadCase c = r.loadCase();
            ObjectNode cn = cases.addObject();
            cn.put("name", c.name());
            cn.put("description", c.description());
            cn.put("load_average_before", r.loadAverageBefore());
            cn.put("load_average_after", r.loadAverageAfter());
            cn.put("floor_ms", r.floorMs());
            ArrayNode paths = cn.putArray("paths");
            for (LoadPath p : c.paths()) {
                PathStats s = r.stats().get(p.name());
                ObjectNode pn = paths.addObject();
                pn.put("name", p.name());
                pn.put("target", p.target().name().toLowerCase(Locale.ROOT));
                pn.put("versus", p.versus());
                pn.put("median_ms", s.medianMs());
                pn.put("min_ms", s.minMs());
                pn.put("max_ms", s.maxMs());
                pn.put("runs", s.runs());
                pn.put("times_floor", r.timesFloor(p.name()));
                pn.put("median_cpu_ms", s.medianCpuMs());
                pn.put("cpu_times_floor", r.cpuTimesFloor(p.name()));
                pn.put("peak_anon_bytes", s.peakAnonBytes());
                pn.put("model_bytes", s.modelBytes());
                double ratio = r.targetRatio(p);
                if (Double.isFinite(ratio)) pn.put("target_ratio", ratio);
                else pn.putNull("target_ratio");
                pn.put("verdict", r.verdict(p));
                pn.put("memory_verdict", r.memoryVerdict(p));
            }
        }
        return Json.STRICT.writerWithDefaultPrettyPrinter().writeValueAsString(root) + "\n";
    }
}
