package dev.qload.cli;

import dev.qload.core.kernel.Kernels;
import java.io.PrintWriter;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;

/** Prints an image classifier's most likely classes: softmax probability, logit and, when the config has them, label names. */
final class TopClasses {
    private TopClasses() {}

    static void print(PrintWriter w, float[] logits, int offset, int classes, int top, List<String> labels) {
        float[] row = Arrays.copyOfRange(logits, offset, offset + classes);
        float[] probs = row.clone();
        Kernels.scalar().softmax(probs, 0, classes);
        Integer[] order = new Integer[classes];
        for (int i = 0; i < classes; i++) order[i] = i;
        Arrays.sort(order, (a, b) -> Float.compare(row[b], row[a]));
        for (int r = 0; r < Math.min(top, classes); r++) {
            int c = order[r];
            w.printf(Locale.ROOT, "  %d. class %5d  p %.4f  logit %9.4f%s%n", r + 1, c, probs[c], row[c], labels.isEmpty() ? "" : "  " + labels.get(c));
        }
    }
}
