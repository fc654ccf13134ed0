package dev.qload.cli;

import dev.qload.core.QLoad;
import dev.qload.core.config.Json;
import dev.qload.core.error.ConfigException;
import dev.qload.core.error.ErrorId;
import dev.qload.core.error.Problem;
import dev.qload.core.load.LoadOptions;
import dev.qload.core.load.LoadedModel;
import dev.qload.core.load.Residency;
import dev.qload.core.load.TraceEvents;
import dev.qload.core.tensor.DType;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** {@code qload load DIR}: the whole pipeline, then the load report. */
@Command(name = "load", description = "Load a checkpoint (meta build, plan, parallel materialize) and print the load report.")
final class LoadCommand implements Callable<Integer> {
    @Parameters(paramLabel = "DIR", description = "Checkpoint directory (config.json + safetensors).")
    Path directory;

    @Option(names = "--dtype", description = "Target dtype of floating weights: auto (the checkpoint's), float32, bfloat16, float16.", defaultValue = "auto")
    String dtype;

    @Option(names = "--quantize", paramLabel = "METHOD", description = "Quantize on load with this quant_method (see `qload plugins`).")
    String quantize;

    @Option(names = "--threads", description = "Worker threads (default: all cores).")
    Integer threads;

    @Option(names = "--memory-budget", paramLabel = "BYTES", description = "Refuse a load that needs more private memory than this.")
    Long memoryBudget;

    @Option(names = "--allow-missing", description = "Initialise missing weights randomly (with a warning) instead of failing.")
    boolean allowMissing;

    @Option(names = "--copy", description = "Copy weights into process memory instead of keeping them mapped.")
    boolean copy;

    @Option(names = "--report-json", paramLabel = "FILE", description = "Also write the load report as JSON.")
    Path reportJson;

    @Option(names = "--trace", paramLabel = "FILE", description = "Write the phases as Chrome trace-event JSON (open in Perfetto).")
    Path trace;

    @Spec
    picocli.CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() {
        PrintWriter out = spec.commandLine().getOut();
        ProgressBar bar = ProgressBar.forTerminal();
        try (LoadedModel model = QLoad.load(directory, options(bar))) {
            bar.finish();
            out.print(model.report().toTable());
            if (reportJson != null) write(reportJson, Json.STRICT.writerWithDefaultPrettyPrinter().writeValueAsString(model.report().toJson()));
            if (trace != null) TraceEvents.write(model.report(), trace);
        } finally {
            bar.finish();
        }
        return 0;
    }

    LoadOptions options(ProgressBar bar) {
        LoadOptions.Builder b = LoadOptions.builder().allowMissing(allowMissing).progress(bar)
                .residency(copy ? Residency.COPIED : Residency.MAPPED);
        if (!dtype.equals("auto")) {
            b.dtype(DType.fromTorchName(dtype).orElseThrow(() -> new ConfigException(Problem.of(ErrorId.CONFIG_WRONG_TYPE,
                    "--dtype " + dtype + " is not one of auto, float32, bfloat16, float16"))));
        }
        if (quantize != null) b.quantize(quantize, Map.of());
        if (threads != null) b.threads(threads);
        if (memoryBudget != null) b.memoryBudgetBytes(memoryBudget);
        return b.build();
    }

    static void write(Path file, String text) {
        try {
            Files.writeString(file, text);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write " + file + ": " + e.getMessage(), e);
        }
    }
}
