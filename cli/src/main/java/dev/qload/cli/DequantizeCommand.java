package dev.qload.cli;

import dev.qload.core.QLoad;
import dev.qload.core.error.ErrorId;
import dev.qload.core.error.PluginException;
import dev.qload.core.error.Problem;
import dev.qload.core.load.LoadOptions;
import dev.qload.core.load.LoadedModel;
import dev.qload.core.load.ModelSaver;
import dev.qload.core.spi.Quantizer;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** {@code qload dequantize DIR --out DIR2}: a pre-quantized checkpoint in, a dense one with the original key names out. */
@Command(name = "dequantize", description = "Turn a pre-quantized checkpoint back into a dense one (same key names as the original model).")
final class DequantizeCommand implements Callable<Integer> {
    @Parameters(paramLabel = "DIR", description = "Pre-quantized checkpoint directory.")
    Path directory;

    @Option(names = "--out", required = true, paramLabel = "DIR2", description = "Output directory.")
    Path out;

    @Option(names = "--max-shard-size", defaultValue = "5000000000", description = "Bytes per shard (default ${DEFAULT-VALUE}).")
    long maxShardBytes;

    @Spec
    picocli.CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() {
        PrintWriter w = spec.commandLine().getOut();
        try (LoadedModel model = QLoad.load(directory, LoadOptions.defaults())) {
            Quantizer q = model.quantizer().orElseThrow(() -> new PluginException(Problem.of(ErrorId.NOT_SUPPORTED,
                    directory + " is not quantized: nothing to dequantize")));
            q.dequantize(model.root());
            var files = ModelSaver.saveDense(model, out, maxShardBytes);
            w.printf("dequantized %s (%s); wrote %d files to %s%n", directory, q.name(), files.size(), out);
        }
        return 0;
    }
}
