package dev.qload.cli;

import dev.qload.core.QLoad;
import dev.qload.core.config.Json;
import dev.qload.core.config.ModelConfig;
import dev.qload.core.error.ConfigException;
import dev.qload.core.error.ErrorId;
import dev.qload.core.error.Problem;
import dev.qload.core.load.LoadOptions;
import dev.qload.core.load.LoadedModel;
import dev.qload.core.load.ModelSaver;
import dev.qload.core.module.Module;
import dev.qload.core.spi.CalibratedQuantizer;
import dev.qload.core.spi.CalibrationRunner;
import dev.qload.core.spi.QuantizationConfig;
import dev.qload.core.spi.Quantizer;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/**
 * {@code qload quantize DIR --method M --out DIR2}: a dense checkpoint in, an HF-layout
 * pre-quantized one out. bitsandbytes methods quantize while loading; GPTQ runs the GPTQ
 * algorithm on calibration data ({@code --calibration} or {@code --calibration-text}), or
 * round-to-nearest without it.
 */
@Command(name = "quantize", description = "Quantize a dense checkpoint and write it in the Hugging Face pre-quantized layout.")
final class QuantizeCommand implements Callable<Integer> {
    @Parameters(paramLabel = "DIR", description = "Dense checkpoint directory.")
    Path directory;

    @Option(names = "--method", required = true, description = "nf4, fp4, int8 (bitsandbytes); mxfp4 (MoE experts, as gpt-oss ships them); gptq.")
    String method;

    @Option(names = "--double-quant", description = "nf4/fp4: quantize the absmax too (bnb_4bit_use_double_quant).")
    boolean doubleQuant;

    @Option(names = "--blocksize", defaultValue = "64", description = "nf4/fp4 block size (default ${DEFAULT-VALUE}, what transformers uses).")
    int blocksize;

    @Option(names = "--bits", defaultValue = "4", description = "gptq: 2, 3, 4 or 8 (default ${DEFAULT-VALUE}).")
    int bits;

    @Option(names = "--group-size", defaultValue = "128", description = "gptq: input columns per scale/zero, -1 for whole rows (default ${DEFAULT-VALUE}).")
    int groupSize;

    @Option(names = "--desc-act", description = "gptq: act-order, columns by decreasing Hessian diagonal (needs calibration data).")
    boolean descAct;

    @Option(names = "--asym", description = "gptq: asymmetric zero-points (default symmetric).")
    boolean asym;

    @Option(names = "--static-groups", description = "gptq: fix every group's scale/zero before the updates.")
    boolean staticGroups;

    @Option(names = "--no-true-sequential", description = "gptq: quantize a block's layers together instead of in forward order.")
    boolean notTrueSequential;

    @Option(names = "--damp-percent", defaultValue = "0.01", description = "gptq: dampening, fraction of mean(diag H) (default ${DEFAULT-VALUE}).")
    double dampPercent;

    @Option(names = "--format", defaultValue = "gptq", description = "gptq: checkpoint_format, gptq (v1, what transformers reads) or gptq_v2.")
    String format;

    @Option(names = "--calibration", paramLabel = "FILE", description = "gptq: token ids (.safetensors input_ids, .json lists, or one line of ids per sequence).")
    Path calibration;

    @Option(names = "--calibration-text", paramLabel = "FILE", description = "gptq, byte-level models: a text file cut into sequences of --sequence-length bytes.")
    Path calibrationText;

    @Option(names = "--sequence-length", defaultValue = "128", description = "--calibration-text: bytes per sequence (default ${DEFAULT-VALUE}).")
    int sequenceLength;

    @Option(names = "--samples", defaultValue = "128", description = "--calibration-text: at most this many sequences (default ${DEFAULT-VALUE}).")
    int samples;

    @Option(names = "--out", required = true, paramLabel = "DIR2", description = "Output directory.")
    Path out;

    @Option(names = "--max-shard-size", defaultValue = "5000000000", description = "Bytes per shard (default ${DEFAULT-VALUE}).")
    long maxShardBytes;

    @Spec
    picocli.CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() {
        PrintWriter w = spec.commandLine().getOut();
        if (method.equals("gptq")) return gptq(w);
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
            default -> throw new ConfigException(Problem.of(ErrorId.CONFIG_INVALID, "--method " + method + " is not one of nf4, fp4, int8, mxfp4, gptq"));
        }
        quantizeOnLoad(quantMethod, fields, w);
        return 0;
    }

    private void quantizeOnLoad(String quantizer, Map<String, Object> fields, PrintWriter w) {
        try (LoadedModel model = QLoad.load(directory, LoadOptions.builder().quantize(quantizer, fields).build())) {
            var files = ModelSaver.save(model, out, maxShardBytes);
            w.printf("quantized %s with %s in %.1f ms; wrote %d files to %s%n", directory, method, model.report().totalMillis(), files.size(), out);
        }
    }

    private int gptq(PrintWriter w) {
        Map<String, Object> fields = new LinkedHashMap<>();
        fields.put("bits", bits);
        fields.put("group_size", groupSize);
        fields.put("desc_act", descAct);
        fields.put("sym", !asym);
        fields.put("static_groups", staticGroups);
        fields.put("true_sequential", !notTrueSequential);
        fields.put("damp_percent", dampPercent);
        fields.put("checkpoint_format", format);
        if (calibration == null && calibrationText == null) {
            w.println("no --calibration: round-to-nearest (GPTQ's format without its error correction)");
            quantizeOnLoad("gptq", fields, w);
            return 0;
        }
        Quantizer quantizer = QLoad.plugins().quantizer("gptq").create(new QuantizationConfig("gptq", ModelConfig.of(Json.STRICT.valueToTree(fields)), false));
        if (!(quantizer instanceof CalibratedQuantizer calibrated)) {
            throw new ConfigException(Problem.of(ErrorId.NOT_SUPPORTED, "the 'gptq' quantizer on the class path does not take calibration data"));
        }
        long start = System.nanoTime();
        try (LoadedModel model = QLoad.load(directory, LoadOptions.defaults())) {
            int vocab = model.config().intValue("vocab_size");
            List<int[]> sequences = calibration != null ? CalibrationFile.read(calibration, vocab)
                    : CalibrationFile.fromText(calibrationText, sequenceLength, samples, vocab);
            int longest = sequences.stream().mapToInt(s -> s.length).max().orElseThrow();
            calibrated.quantizeWithCalibration(model.root(), new CalibrationRunner() {
                @Override
                public int sequences() {
                    return sequences.size();
                }

                @Override
                public void run(Module root, int index) {
                    CausalLmRunner.of(root, longest).forward(sequences.get(index));
                }
            });
            var files = ModelSaver.save(model, quantizer, out, maxShardBytes);
            w.printf("quantized %s with GPTQ (%d-bit, group %d) on %d calibration sequences in %.1f s; wrote %d files to %s%n", directory, bits, groupSize,
                    sequences.size(), (System.nanoTime() - start) / 1e9, files.size(), out);
        }
        return 0;
    }
}
