package dev.qload.timm.nn;

import dev.qload.timm.ImageClassifier;

/** The root of a timm classifier: its input size and class count, fixed when it is built. */
public abstract class ClassifierModel extends TimmModule implements ImageClassifier {
    private final int imageSize;
    private final int numClasses;

    protected ClassifierModel(int imageSize, int numClasses) {
        this.imageSize = imageSize;
        this.numClasses = numClasses;
    }

    @Override
    public final int numClasses() {
        return numClasses;
    }

    @Override
    public final int imageSize() {
        return imageSize;
    }
}
