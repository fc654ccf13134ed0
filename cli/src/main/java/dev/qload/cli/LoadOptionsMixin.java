package dev.qload.cli;

import dev.qload.core.error.ConfigException;
import dev.qload.core.error.ErrorId;
import dev.qload.core.error.Problem;
import dev.qload.core.integrity.VerifyPolicy;
import dev.qload.core.load.LoadOptions;
import dev.qload.core.load.Residency;
import dev.qload.core.tensor.DType;
import java.util.Map;
import picocli.CommandLine.Option;

/** The load options every command that loads a model shares. */
final class LoadOptionsMixin {
    @Option(names = "--dtype", description = "Target dtype of floating weights: auto (the checkpoint's), float32, bfloat16, float16.", defaultValue = "auto")
    String dtype;

    @Option(names = "--quantize", paramLabel = "METHOD", description = "Quantize on load: nf4, fp4, int8 (bitsandbytes), or any quant_method of `qload plugins`.")
    String quantize;

    @Option(names = "--double-quant", description = "With nf4/fp4: also quantize the absmax (bnb_4bit_use_double_quant).")
    boolean doubleQuant;

    @Option(names = "--threads", description = "Worker threads (default: all cores).")
    Integer threads;

    @Option(names = "--memory-budget", paramLabel = "BYTES", description = "Refuse a load that needs more private memory than this.")
    Long memoryBudget;

    @Option(names = "--allow-missing", description = "Initialise missing weights randomly (with a warning) instead of failing.")
    boolean allowMissing;

    @Option(names = "--copy", description = "Copy weights into process memory instead of keeping them mapped.")
    boolean copy;

    @Option(names = "--verify", paramLabel = "POLICY", defaultValue = "off",
            description = "Check the files against DIR/qload-checksums.json while loading: off (default), warn (a mismatch is a warning), "
                    + "require (a mismatch, or a file without a checksum, is an error).")
    String verify;

    LoadOptions options(ProgressBar bar) {
        LoadOptions.Builder b = LoadOptions.builder().allowMissing(allowMissing).progress(bar)
                .residency(copy ? Residency.COPIED : Residency.MAPPED);
        if (!dtype.equals("auto")) {
            b.dtype(DType.fromTorchName(dtype).orElseThrow(() -> new ConfigException(Problem.of(ErrorId.CONFIG_WRONG_TYPE,
                    "--dtype " + dtype + " is not one of auto, float32, bfloat16, float16"))));
        }
        if (quantize != null) {
            switch (quantize) {
                // Shorthands for bitsandbytes, spelled as transformers' BitsAndBytesConfig fields.
                case "nf4", "fp4" -> b.quantize("bitsandbytes", Map.of("load_in_4bit", true, "bnb_4bit_quant_type", quantize,
                        "bnb_4bit_use_double_quant", doubleQuant));
                case "int8" -> b.quantize("bitsandbytes", Map.of("load_in_8bit", true));
                default -> b.quantize(quantize, Map.of());
            }
        }
        b.verify(VerifyPolicy.forKey(verify).orElseThrow(() -> new ConfigException(Problem.of(ErrorId.CONFIG_INVALID,
                "--verify " + verify + " is not one of off, warn, require"))));
        if (threads != null) b.threads(threads);
        if (memoryBudget != null) b.memoryBudgetBytes(memoryBudget);
        return b.build();
    }
}
