package dev.qload.cli;

import dev.qload.core.QLoad;
import dev.qload.core.checkpoint.Checkpoint;
import dev.qload.core.checkpoint.CheckpointIndex;
import dev.qload.core.checkpoint.CheckpointTensor;
import dev.qload.core.config.ModelConfig;
import dev.qload.core.error.QLoadException;
import dev.qload.core.load.LoadReport;
import dev.qload.core.spi.ArchitectureProvider;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** {@code qload inspect DIR}: what a checkpoint holds, read from headers only (no weight byte is touched). */
@Command(name = "inspect", description = "Show a checkpoint's architecture, quantization, files and tensors without loading it.")
final class InspectCommand implements Callable<Integer> {
    @Parameters(paramLabel = "DIR", description = "Checkpoint directory (config.json + safetensors).")
    Path directory;

    @Spec
    picocli.CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() {
        PrintWriter out = spec.commandLine().getOut();
        try (Checkpoint ckpt = Checkpoint.open(directory)) {
            out.printf("checkpoint    %s%n", directory);
            Path configFile = ckpt.configFile();
            if (Files.isRegularFile(configFile)) {
                ModelConfig config = ModelConfig.read(configFile);
                out.printf("architecture  %s (model_type %s)%n", config.architectures().isEmpty()
                        ? config.optionalString("architecture").orElse("-") // timm's Hub config names one, singular
                        : String.join(", ", config.architectures()),
                        config.modelType().isEmpty() ? "-" : config.modelType());
                out.printf("provider      %s%n", provider(config));
                out.printf("dtype         %s%n", config.optionalString("dtype").or(() -> config.optionalString("torch_dtype")).orElse("-"));
                out.printf("quantization  %s%n", config.object("quantization_config").map(ModelConfig::toString).orElse("none"));
            } else {
                out.println("config        (no config.json)");
            }
            long params = 0;
            Map<String, Long> bytesByDtype = new TreeMap<>();
            for (CheckpointTensor t : ckpt.tensors().values()) {
                params += t.info().shape().elementCount();
                bytesByDtype.merge(t.info().dtype().name(), t.info().byteLength(), Long::sum);
            }
            out.printf("files         %d%s%n", ckpt.files().size(), ckpt.index().isPresent() ? " (sharded, " + CheckpointIndex.FILE_NAME + ")" : "");
            out.printf("tensors       %d, %,d elements, %s%n", ckpt.tensors().size(), params, LoadReport.bytes(ckpt.totalBytes()));
            out.printf("by dtype      %s%n", bytesByDtype.entrySet().stream().map(e -> e.getKey() + " " + LoadReport.bytes(e.getValue())).toList());
            out.println();
            int width = ckpt.tensors().keySet().stream().mapToInt(String::length).max().orElse(4);
            String fmt = "%-" + width + "s  %-7s %-16s %10s  %s%n";
            out.printf(Locale.ROOT, fmt, "tensor", "dtype", "shape", "bytes", "file @ offset");
            for (CheckpointTensor t : ckpt.tensors().values()) {
                out.printf(Locale.ROOT, fmt, t.name(), t.info().dtype(), t.info().shape(), LoadReport.bytes(t.info().byteLength()),
                        t.file().path().getFileName() + " @ " + t.fileOffset());
            }
            for (String w : ckpt.warnings()) out.println("warning: " + w);
        }
        return 0;
    }

    private static String provider(ModelConfig config) {
        try {
            ArchitectureProvider p = QLoad.plugins().architectureFor(config);
            return p.name() + " (" + p.getClass().getName() + ")";
        } catch (QLoadException e) {
            return "none found: " + e.problems().getFirst().message();
        }
    }
}
