package dev.qload.cli;

import dev.qload.core.QLoad;
import dev.qload.core.error.ConfigException;
import dev.qload.core.error.ErrorId;
import dev.qload.core.error.Problem;
import dev.qload.core.load.LoadedModel;
import dev.qload.core.safetensors.SafetensorsWriter;
import dev.qload.core.tensor.Shape;
import dev.qload.core.tensor.Tensor;
import dev.qload.models.CausalLanguageModel;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/**
 * {@code qload forward DIR --input-ids 1,2,3}: one forward pass; prints the top tokens of the last
 * position. {@code --out F} writes the logits as a safetensors file with one F32 tensor named
 * {@code logits}, shape [sequence, vocab]: a stable layout other tools compare against. With
 * {@code --pixel-values} it runs an image model instead ({@link VisionForward}).
 */
@Command(name = "forward", description = "Run one forward pass: the most likely next tokens, or an image model's top classes.")
final class ForwardCommand implements Callable<Integer> {
    @Parameters(paramLabel = "DIR", description = "Checkpoint directory.")
    Path directory;

    @Option(names = "--input-ids", split = ",", paramLabel = "IDS", description = "Token ids, comma-separated (language models).")
    int[] inputIds;

    @Option(names = "--pixel-values", paramLabel = "FILE", description = "Safetensors file with 'pixel_values' F32 [batch, 3, H, W] (image models); "
            + "--out then writes logits [batch, classes].")
    Path pixelValues;

    @Option(names = "--out", paramLabel = "FILE", description = "Write logits [sequence, vocab] (F32, tensor 'logits') to this safetensors file.")
    Path out;

    @Option(names = "--top", defaultValue = "5", description = "How many tokens to print (default ${DEFAULT-VALUE}).")
    int top;

    @Mixin
    LoadOptionsMixin load;

    @Spec
    picocli.CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() {
        PrintWriter w = spec.commandLine().getOut();
        if ((inputIds == null) == (pixelValues == null)) {
            throw new ConfigException(Problem.of(ErrorId.CONFIG_INVALID, "give exactly one of --input-ids (language models) and --pixel-values (image models)"));
        }
        if (pixelValues != null) {
            try (LoadedModel model = QLoad.load(directory, load.options(ProgressBar.forTerminal()))) {
                VisionForward.run(model, pixelValues, out, top, w);
            }
            return 0;
        }
        if (inputIds.length == 0) throw new ConfigException(Problem.of(ErrorId.CONFIG_INVALID, "--input-ids is empty"));
        try (LoadedModel model = QLoad.load(directory, load.options(ProgressBar.forTerminal()))) {
            CausalLanguageModel inference = CausalLmRunner.of(model, inputIds.length);
            long start = System.nanoTime();
            float[] logits = inference.forward(inputIds);
            double ms = (System.nanoTime() - start) / 1e6;
            int vocab = inference.vocabSize();
            if (out != null) {
                SafetensorsWriter.write(out, Map.of("logits", Tensor.ofFloats(Shape.of(inputIds.length, vocab), logits)));
            }
            w.printf(Locale.ROOT, "%d tokens, forward %.1f ms; top %d at the last position:%n", inputIds.length, ms, top);
            float[] last = Arrays.copyOfRange(logits, (inputIds.length - 1) * vocab, inputIds.length * vocab);
            float[] probs = last.clone();
            dev.qload.core.kernel.Kernels.scalar().softmax(probs, 0, vocab);
            Integer[] order = new Integer[vocab];
            for (int i = 0; i < vocab; i++) order[i] = i;
            Arrays.sort(order, (a, b) -> Float.compare(last[b], last[a]));
            for (int i = 0; i < Math.min(top, vocab); i++) {
                int id = order[i];
                w.printf(Locale.ROOT, "  %6d  logit %9.4f  p %.4f%s%n", id, last[id], probs[id], vocab == 256 ? "  " + ByteText.show(id) : "");
            }
            if (out != null) w.println("logits written to " + out);
        }
        return 0;
    }
}
