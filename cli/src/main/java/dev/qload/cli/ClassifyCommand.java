package dev.qload.cli;

import dev.qload.core.QLoad;
import dev.qload.core.kernel.Kernels;
import dev.qload.core.load.LoadedModel;
import dev.qload.core.tensor.Shape;
import dev.qload.core.tensor.Tensor;
import dev.qload.timm.ImageClassification;
import dev.qload.timm.PretrainedConfig;
import dev.qload.timm.TimmConfig;
import dev.qload.timm.image.EvalTransform;
import dev.qload.timm.image.RgbImage;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/**
 * {@code qload classify DIR image.png}: decode the image (ImageIO), preprocess it as timm's eval
 * transform does from the model's {@code pretrained_cfg} (resize, center crop, mean, std), run the
 * model and print the top classes.
 */
@Command(name = "classify", description = "Classify an image with a timm model and print the top classes.")
final class ClassifyCommand implements Callable<Integer> {
    @Parameters(index = "0", paramLabel = "DIR", description = "Checkpoint directory (timm or TimmWrapper layout).")
    Path directory;

    @Parameters(index = "1", paramLabel = "IMAGE", description = "Image file: PNG, JPEG, BMP or GIF.")
    Path image;

    @Option(names = "--top", defaultValue = "5", description = "How many classes to print (default ${DEFAULT-VALUE}).")
    int top;

    @Mixin
    LoadOptionsMixin load;

    @Spec
    picocli.CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() {
        PrintWriter w = spec.commandLine().getOut();
        RgbImage decoded = RgbImage.read(image);
        try (LoadedModel model = QLoad.load(directory, load.options(ProgressBar.forTerminal()))) {
            ImageClassification run = ImageClassification.of(model, Kernels.get()); // first: a language model is refused by name
            TimmConfig config = TimmConfig.from(model.config());
            PretrainedConfig cfg = config.pretrained();
            float[] pixels = EvalTransform.apply(decoded, cfg);
            float[] logits = run.logits(Tensor.ofFloats(Shape.of(1, 3, cfg.height(), cfg.width()), pixels), image.toString());
            w.printf(Locale.ROOT, "%s (%d×%d) → %s at %d×%d (%s, crop_pct %s); top %d of %d classes:%n", image.getFileName(), decoded.width(),
                    decoded.height(), config.architecture(), cfg.width(), cfg.height(), cfg.interpolation(), cfg.cropPct(),
                    Math.min(top, run.model().numClasses()), run.model().numClasses());
            TopClasses.print(w, logits, 0, run.model().numClasses(), top, config.labels());
        }
        return 0;
    }
}
