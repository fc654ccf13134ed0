package dev.qload.timm.nn;

import dev.qload.core.kernel.Kernels;
import dev.qload.core.nn.Linear;
import dev.qload.core.tensor.DType;
import dev.qload.timm.kernel.Pooling;

/** timm.layers.ClassifierHead with average pooling over channels-last rows, then {@code fc}. */
public final class ClassifierHead extends TimmModule {
    private final int features;
    private final int classes;

    public ClassifierHead(int features, int classes, DType dtype) {
        this.features = features;
        this.classes = classes;
        registerChild("fc", new Linear(features, classes, true, dtype));
    }

    /** {@code x [rows, features]} → logits. */
    public float[] forward(Kernels k, float[] x, int rows) {
        float[] pooled = Pooling.meanRows(x, 0, rows, features);
        float[] logits = new float[classes];
        linear("fc").forward(k, pooled, 1, logits);
        return logits;
    }

    @Override
    public String typeName() {
        return "ClassifierHead";
    }
}
