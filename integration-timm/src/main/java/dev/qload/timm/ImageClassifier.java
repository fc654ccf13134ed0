package dev.qload.timm;

import dev.qload.core.kernel.Kernels;

/** A timm classification model's forward pass: one F32 image in, its logits out. */
public interface ImageClassifier {
    int numClasses();

    /** The square input size the model was built for (timm's {@code img_size}; {@code fixed_input_size}). */
    int imageSize();

    /** Logits of the {@code [3, imageSize, imageSize]} image that starts at {@code offset} in {@code pixels}. */
    float[] classify(Kernels k, float[] pixels, int offset);
}
