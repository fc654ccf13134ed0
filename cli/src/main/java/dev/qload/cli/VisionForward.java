package dev.qload.cli;

import dev.qload.core.error.ConfigException;
import dev.qload.core.error.ErrorId;
import dev.qload.core.error.Problem;
import dev.qload.core.kernel.Kernels;
import dev.qload.core.load.LoadedModel;
import dev.qload.core.safetensors.SafetensorsFile;
import dev.qload.core.safetensors.SafetensorsWriter;
import dev.qload.core.tensor.Shape;
import dev.qload.core.tensor.Tensor;
import dev.qload.timm.ImageClassification;
import dev.qload.timm.TimmConfig;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.Locale;
import java.util.Map;

/**
 * {@code qload forward DIR --pixel-values F.safetensors}: an image model's forward pass on a tensor
 * named {@code pixel_values} (F32 {@code [batch, 3, H, W]}), with {@code --out} writing one F32
 * tensor {@code logits [batch, classes]}: exact comparisons without image decoding.
 */
final class VisionForward {
    private VisionForward() {}

    static void run(LoadedModel model, Path pixelFile, Path out, int top, PrintWriter w) {
        ImageClassification run = ImageClassification.of(model, Kernels.get());
        float[] logits;
        long batch;
        long start;
        try (SafetensorsFile f = SafetensorsFile.open(pixelFile)) {
            if (!f.tensors().containsKey("pixel_values")) {
                throw new ConfigException(Problem.inFile(ErrorId.INVALID_INPUT, "no tensor named 'pixel_values' (it has " + f.tensors().keySet()
                        + "); expected F32 [batch, 3, " + run.model().imageSize() + ", " + run.model().imageSize() + "]", pixelFile, null, -1));
            }
            Tensor pixels = f.tensor("pixel_values");
            batch = pixels.shape().rank() > 0 ? pixels.shape().dim(0) : 0;
            start = System.nanoTime();
            logits = run.logits(pixels, pixelFile.toString());
        }
        double ms = (System.nanoTime() - start) / 1e6;
        int classes = run.model().numClasses();
        if (out != null) SafetensorsWriter.write(out, Map.of("logits", Tensor.ofFloats(Shape.of(batch, classes), logits)));
        var labels = TimmConfig.from(model.config()).labels();
        w.printf(Locale.ROOT, "%d image%s, forward %.1f ms%n", batch, batch == 1 ? "" : "s", ms);
        for (int b = 0; b < batch; b++) {
            w.printf(Locale.ROOT, "image %d: top %d of %d classes%n", b, Math.min(top, classes), classes);
            TopClasses.print(w, logits, b * classes, classes, top, labels);
        }
        if (out != null) w.println("logits written to " + out);
    }
}
