package dev.qload.bench;

import java.util.List;
import java.util.Locale;

/**
 * The load matrix as an SVG bar chart, written by hand (no plotting dependency): one group of bars
 * per checkpoint, one bar per path, its length the median time as a multiple of that case's read
 * floor, on a linear axis cut at {@value #AXIS_MAX}× (a longer bar is drawn to the edge and labelled
 * with its value). Dashed lines mark the floor (1×) and the targets (1.25× resident, 2×
 * on-load quantization); a bar is red where its target is missed.
 */
final class MatrixChart {
    static final double AXIS_MAX = 8.0;
    private static final int WIDTH = 1100, LABEL = 330, PLOT = 600, ROW = 17, CASE_GAP = 34, TOP = 64;

    private MatrixChart() {}

    static String svg(String title, String subtitle, List<CaseResult> results) {
        int rows = results.stream().mapToInt(r -> r.loadCase().paths().size()).sum();
        int height = TOP + rows * ROW + results.size() * CASE_GAP + 40;
        StringBuilder b = new StringBuilder();
        b.append(String.format(Locale.ROOT, "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" font-family=\"sans-serif\" font-size=\"11\">%n", WIDTH, height));
        b.append(String.format(Locale.ROOT, "<rect width=\"%d\" height=\"%d\" fill=\"white\"/>%n", WIDTH, height));
        b.append(text(10, 20, 15, "bold", title)).append(text(10, 38, 11, "normal", subtitle));
        int y = TOP;
        for (double mark : new double[] {0, 1, 1.25, 2, 4, 6, 8}) {
            int x = LABEL + (int) (PLOT * mark / AXIS_MAX);
            String dash = mark == 1 || mark == 1.25 || mark == 2 ? " stroke-dasharray=\"4,3\"" : "";
            String colour = mark == 1 ? "#333" : mark == 1.25 || mark == 2 ? "#c60" : "#ddd";
            b.append(String.format(Locale.ROOT, "<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" stroke=\"%s\"%s/>%n", x, TOP - 8, x, height - 30, colour, dash));
            b.append(text(x - 8, TOP - 12, 10, "normal", fmt(mark) + "x"));
        }
        for (CaseResult r : results) {
            y += CASE_GAP - 12;
            b.append(text(10, y, 12, "bold", r.loadCase().name() + ": " + r.loadCase().description()
                    + String.format(Locale.ROOT, " (floor %.0f ms, load avg %s)", r.floorMs(), r.loadAverageBefore())));
            y += 8;
            for (LoadPath p : r.loadCase().paths()) {
                double v = r.timesFloor(p.name());
                int len = (int) Math.max(1, PLOT * Math.min(v, AXIS_MAX) / AXIS_MAX);
                b.append(text(LABEL - 6, y + 12, 11, "normal", p.name()).replace("<text ", "<text text-anchor=\"end\" "));
                b.append(String.format(Locale.ROOT, "<rect x=\"%d\" y=\"%d\" width=\"%d\" height=\"%d\" fill=\"%s\"/>%n", LABEL, y + 2, len, ROW - 4, colour(r, p)));
                String label = String.format(Locale.ROOT, "%.2fx  (%.0f ms)%s", v, r.stats().get(p.name()).medianMs(),
                        r.verdict(p).isEmpty() ? "" : "  " + r.targetText(p) + " " + r.verdict(p));
                b.append(text(LABEL + len + 4, y + 12, 10, "normal", label));
                y += ROW;
            }
        }
        return b.append("</svg>\n").toString();
    }

    private static String colour(CaseResult r, LoadPath p) {
        if (r.verdict(p).equals("MISSED")) return "#d33";
        return switch (p.target()) {
            case FLOOR -> "#555";
            case NONE -> p.name().startsWith("qload") ? "#69c" : "#aaa";
            case JLAMA -> "#b8a";
            default -> "#3a6";
        };
    }

    private static String fmt(double v) {
        return v == Math.rint(v) ? String.valueOf((int) v) : String.valueOf(v);
    }

    private static String text(int x, int y, int size, String weight, String s) {
        return String.format(Locale.ROOT, "<text x=\"%d\" y=\"%d\" font-size=\"%d\" font-weight=\"%s\">%s</text>%n", x, y, size, weight, escape(s));
    }

    private static String escape(String s) {
        return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;");
    }
}
