package dev.qload.cli;

import dev.qload.core.QLoad;
import dev.qload.core.error.ErrorId;
import dev.qload.core.error.Problem;
import dev.qload.core.error.QLoadException;
import dev.qload.core.load.InitMode;
import dev.qload.core.load.LoadOptions;
import dev.qload.core.load.LoadReport;
import dev.qload.core.load.LoadedModel;
import dev.qload.core.tensor.Tensor;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code qload demo}: the main job on the model that ships with the project, a byte-level Llama
 * trained on the King James Bible (tools/fixtures/train_demo_llama.py): a meta load straight from
 * the mapped shards with its load report, the same checkpoint quantized to NF4 while loading, text
 * from both, and the meta load beside the eager baseline, measured in this run.
 */
@Command(name = "demo", description = "Load the demo model that ships with qload, quantize it on load, generate text, print the load report.")
final class DemoCommand implements Callable<Integer> {
    static final String DEMO_MODEL = "testdata/demo-llama";
    private static final int REPEATS = 5;

    @Option(names = "--prompt", defaultValue = "In the beginning", description = "Prompt (default: ${DEFAULT-VALUE}).")
    String prompt;

    @Option(names = "--max-tokens", defaultValue = "160", description = "Bytes to generate (default ${DEFAULT-VALUE}).")
    int maxTokens;

    @Spec
    picocli.CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() {
        PrintWriter out = spec.commandLine().getOut();
        Path dir = QloadHome.resolve().resolve(DEMO_MODEL);
        if (!Files.isDirectory(dir)) {
            throw new QLoadException(Problem.inFile(ErrorId.CHECKPOINT_NOT_FOUND, "the demo model is missing; set QLOAD_HOME to the qload checkout", dir, null, -1));
        }
        out.println("qload demo: a byte-level Llama (4 layers, BF16, 2 shards) built on the meta device and loaded from memory-mapped safetensors.");
        out.println();
        LoadOptions meta = LoadOptions.defaults();
        LoadOptions nf4 = LoadOptions.builder().quantize("bitsandbytes", Map.of("load_in_4bit", true, "bnb_4bit_quant_type", "nf4",
                "bnb_4bit_use_double_quant", true)).build();
        double coldMs = timeLoad(dir, meta);
        try (LoadedModel model = QLoad.load(dir, meta)) {
            out.print(model.report().toTable());
            Tensor invFreq = model.root().find("model.rotary_emb").slot("inv_freq").get();
            out.printf(Locale.ROOT, "%n  model.rotary_emb.inv_freq is not in the checkpoint; recomputed on %s: [%.6g, %.6g, ..., %.6g]%n",
                    invFreq.device(), invFreq.getFloat(0), invFreq.getFloat(1), invFreq.getFloat(invFreq.elementCount() - 1));
            generate(out, "BF16, zero-copy", model);
        }
        try (LoadedModel model = QLoad.load(dir, nf4)) {
            LoadReport r = model.report();
            out.printf(Locale.ROOT, "%n  quantized to NF4 while loading (bitsandbytes layout, double quant): %s → %s of weights, %.1f ms%n",
                    LoadReport.bytes(r.bytesRead() + r.bytesMapped()), LoadReport.bytes(r.modelBytes()), r.totalMillis());
            generate(out, "NF4", model);
        }
        double[] metaMs = new double[REPEATS], eagerMs = new double[REPEATS];
        LoadOptions eager = LoadOptions.builder().initMode(InitMode.EAGER).build();
        timeLoad(dir, eager);
        for (int i = 0; i < REPEATS; i++) { // interleaved, after warm-up, in this process
            metaMs[i] = timeLoad(dir, meta);
            eagerMs[i] = timeLoad(dir, eager);
        }
        double m = median(metaMs), e = median(eagerMs);
        out.printf(Locale.ROOT, "%n  load time, median of %d (first, cold load: %.1f ms)%n", REPEATS, coldMs);
        out.printf(Locale.ROOT, "    meta init  (qload)                              %8.2f ms%n", m);
        out.printf(Locale.ROOT, "    eager init (allocate + random init, then load)  %8.2f ms   meta is %.1fx faster%n", e, e / Math.max(m, 1e-3));
        return 0;
    }

    private void generate(PrintWriter out, String label, LoadedModel model) {
        var g = GenerateCommand.generate(CausalLmRunner.of(model, ByteText.encode(prompt).length + maxTokens), ByteText.encode(prompt), maxTokens, 0, 0);
        out.printf(Locale.ROOT, "%n  %s, greedy, %.0f tokens/s:%n", label, g.tokensPerSecond());
        for (String line : (prompt + g.text()).split("\n")) out.println("    | " + line);
    }

    private static double timeLoad(Path dir, LoadOptions options) {
        try (LoadedModel model = QLoad.load(dir, options)) {
            return model.report().totalMillis();
        }
    }

    private static double median(double[] values) {
        double[] sorted = values.clone();
        Arrays.sort(sorted);
        return sorted[sorted.length / 2];
    }
}
