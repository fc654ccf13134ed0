package dev.qload.timm;

import dev.qload.core.error.ErrorId;
import dev.qload.core.error.PluginException;
import dev.qload.core.error.Problem;
import dev.qload.core.kernel.Kernels;
import dev.qload.core.load.LoadedModel;
import dev.qload.core.tensor.DType;
import dev.qload.core.tensor.Tensor;

/** Runs a loaded timm model on a batch: {@code pixel_values [batch, 3, H, W]} F32 → logits {@code [batch, classes]}. */
public final class ImageClassification {
    private final ImageClassifier model;
    private final Kernels kernels;

    private ImageClassification(ImageClassifier model, Kernels kernels) {
        this.model = model;
        this.kernels = kernels;
    }

    /** The forward pass of {@code loaded}, or {@code [qload/NotSupported]} when it is not a timm classifier. */
    public static ImageClassification of(LoadedModel loaded, Kernels kernels) {
        if (loaded.root() instanceof ImageClassifier c) return new ImageClassification(c, kernels);
        throw new PluginException(Problem.of(ErrorId.NOT_SUPPORTED, loaded.root().typeName() + " is not an image classifier"));
    }

    public ImageClassifier model() {
        return model;
    }

    /**
     * Logits, {@code [batch, classes]} row-major. A tensor of another dtype or shape is
     * {@code [qload/InvalidInput]} naming what was expected ({@code source} names it in the message).
     */
    public float[] logits(Tensor pixelValues, String source) {
        int size = model.imageSize();
        var shape = pixelValues.shape();
        if (pixelValues.dtype() != DType.F32 || shape.rank() != 4 || shape.dim(1) != 3 || shape.dim(2) != size || shape.dim(3) != size
                || shape.dim(0) < 1) {
            throw new PluginException(Problem.of(ErrorId.INVALID_INPUT, "'pixel_values' of " + source + " is " + pixelValues.dtype() + " "
                    + shape + "; this model takes F32 [batch, 3, " + size + ", " + size + "]"));
        }
        int batch = Math.toIntExact(shape.dim(0));
        float[] pixels = pixelValues.toFloatArray();
        int classes = model.numClasses();
        float[] out = new float[batch * classes];
        for (int b = 0; b < batch; b++) {
            System.arraycopy(model.classify(kernels, pixels, b * 3 * size * size), 0, out, b * classes, classes);
        }
        return out;
    }
}
