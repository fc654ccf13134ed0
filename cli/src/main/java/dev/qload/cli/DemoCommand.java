package dev.qload.cli;

import dev.qload.core.QLoad;
import dev.qload.core.error.ErrorId;
import dev.qload.core.error.Problem;
import dev.qload.core.error.QLoadException;
import dev.qload.core.load.InitMode;
import dev.qload.core.load.LoadOptions;
import dev.qload.core.load.LoadedModel;
import dev.qload.core.module.Module;
import dev.qload.core.tensor.Tensor;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Spec;

/**
 * {@code qload demo}: loads the small Llama that ships with the project, prints the load report,
 * shows that the non-persistent RoPE buffer was recomputed, and sets the meta load beside the eager
 * baseline (allocate + random init first) measured in the same run.
 */
@Command(name = "demo", description = "Load the demo model that ships with qload and print the load report.")
final class DemoCommand implements Callable<Integer> {
    static final String DEMO_MODEL = "testdata/demo-llama";

    private static final int REPEATS = 5;

    @Spec
    picocli.CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() {
        PrintWriter out = spec.commandLine().getOut();
        Path dir = QloadHome.resolve().resolve(DEMO_MODEL);
        if (!Files.isDirectory(dir)) {
            throw new QLoadException(Problem.inFile(ErrorId.CHECKPOINT_NOT_FOUND, "the demo model is missing; set QLOAD_HOME to the qload checkout", dir, null, -1));
        }
        out.println("qload demo: a 4-layer Llama (BF16, 2 shards) built on the meta device, then loaded from memory-mapped safetensors.");
        out.println();
        LoadOptions meta = LoadOptions.defaults();
        LoadOptions eager = LoadOptions.builder().initMode(InitMode.EAGER).build();
        double coldMs = timeLoad(dir, meta);
        try (LoadedModel model = QLoad.load(dir, meta)) {
            out.print(model.report().toTable());
            Module rotary = model.root().find("model.rotary_emb");
            Tensor invFreq = rotary.slot("inv_freq").get();
            out.printf(Locale.ROOT, "%n  model.rotary_emb.inv_freq is not in the checkpoint; recomputed on %s: [%.6g, %.6g, ..., %.6g] (%d values)%n",
                    invFreq.device(), invFreq.getFloat(0), invFreq.getFloat(1), invFreq.getFloat(invFreq.elementCount() - 1), invFreq.elementCount());
        }
        // Meta vs eager, interleaved in this process after warm-up; medians of several loads.
        double[] metaMs = new double[REPEATS], eagerMs = new double[REPEATS];
        timeLoad(dir, eager);
        for (int i = 0; i < REPEATS; i++) {
            metaMs[i] = timeLoad(dir, meta);
            eagerMs[i] = timeLoad(dir, eager);
        }
        double m = median(metaMs), e = median(eagerMs);
        out.printf(Locale.ROOT, "%n  load time, median of %d (first, cold load: %.1f ms)%n", REPEATS, coldMs);
        out.printf(Locale.ROOT, "    meta init  (qload)                              %8.2f ms%n", m);
        out.printf(Locale.ROOT, "    eager init (allocate + random init, then load)  %8.2f ms   meta is %.1fx faster%n", e, e / Math.max(m, 1e-3));
        return 0;
    }

    private static double timeLoad(Path dir, LoadOptions options) {
        try (LoadedModel model = QLoad.load(dir, options)) {
            return model.report().totalMillis();
        }
    }

    private static double median(double[] values) {
        double[] sorted = values.clone();
        java.util.Arrays.sort(sorted);
        return sorted[sorted.length / 2];
    }
}
