package dev.qload.cli;

import dev.qload.core.QLoad;
import dev.qload.core.config.Json;
import dev.qload.core.load.LoadedModel;
import dev.qload.core.load.TraceEvents;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** {@code qload load DIR}: the whole pipeline, then the load report. */
@Command(name = "load", description = "Load a checkpoint (meta build, plan, parallel materialize) and print the load report.")
final class LoadCommand implements Callable<Integer> {
    @Parameters(paramLabel = "DIR", description = "Checkpoint directory (config.json + safetensors).")
    Path directory;

    @Mixin
    LoadOptionsMixin load;

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
        try (LoadedModel model = QLoad.load(directory, load.options(bar))) {
            bar.finish();
            out.print(model.report().toTable());
            if (reportJson != null) write(reportJson, Json.STRICT.writerWithDefaultPrettyPrinter().writeValueAsString(model.report().toJson()));
            if (trace != null) TraceEvents.write(model.report(), trace);
        } finally {
            bar.finish();
        }
        return 0;
    }

    static void write(Path file, String text) {
        try {
            Files.writeString(file, text);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write " + file + ": " + e.getMessage(), e);
        }
    }
}
