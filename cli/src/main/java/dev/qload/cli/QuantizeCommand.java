package dev.qload.cli;

import dev.qload.core.QLoad;
import dev.qload.core.load.LoadOptions;
import dev.qload.core.load.LoadedModel;
import dev.qload.core.load.ModelSaver;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** {@code qload quantize DIR --method nf4 --out DIR2}: a dense checkpoint in, an HF-layout pre-quantized one out. */
@Command(name = "quantize", description = "Quantize a dense checkpoint and write it in the Hugging Face pre-quantized layout.")
final class QuantizeCommand implements Callable<Integer> {
    @Parameters(paramLabel = "DIR", description = "Dense checkpoint directory.")
    Path directory;

    @Option(names = "--method", required = true, description = "nf4, fp4 or int8 (bitsandbytes); mxfp4 (MoE experts, as gpt-oss ships them).")
    String method;

    @Option(names = "--double-quant", description = "nf4/fp4: quantize the absmax too (bnb_4bit_use_double_quant).")
    boolean doubleQuant;

    @Option(names = "--blocksize", defaultValue = "64", description = "nf4/fp4 block size (default ${DEFAULT-VALUE}, what transformers uses).")
    int blocksize;

    @Option(names = "--out", required = true, paramLabel = "DIR2", description = "Output directory.")
    Path out;

    @Option(names = "--max-shard-size", defaultValue = "5000000000", description = "Bytes per shard (default ${DEFAULT-VALUE}).")
    long maxShardBytes;

    @Spec
    picocli.CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() {
        Map<String, Object> fields = new LinkedHashMap<>();
        String quantMethod = "bitsandbytes";
        switch (method) {
            case "nf4", "fp4" -> {
                fields.put("load_in_4bit", true);
                fields.put("bnb_4bit_quant_type", method);
                fields.put("bnb_4bit_use_double_quant", doubleQuant);
                fields.put("bnb_4bit_blocksize", blocksize);
            }
            case "int8" -> fields.put("load_in_8bit", true);
            case "mxfp4" -> quantMethod = "mxfp4"; // gpt-oss's experts, written as *_blocks / *_scales
            default -> throw new dev.qload.core.error.ConfigException(dev.qload.core.error.Problem.of(dev.qload.core.error.ErrorId.CONFIG_INVALID,
                    "--method " + method + " is not one of nf4, fp4, int8, mxfp4"));
        }
        PrintWriter w = spec.commandLine().getOut();
        try (LoadedModel model = QLoad.load(directory, LoadOptions.builder().quantize(quantMethod, fields).build())) {
            var files = ModelSaver.save(model, out, maxShardBytes);
            w.printf("quantized %s with %s in %.1f ms; wrote %d files to %s%n", directory, method, model.report().totalMillis(), files.size(), out);
        }
        return 0;
    }
}
