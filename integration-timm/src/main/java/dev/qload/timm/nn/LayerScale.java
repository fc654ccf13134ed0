package dev.qload.timm.nn;

import dev.qload.core.nn.RandomInit;
import dev.qload.core.tensor.DType;
import dev.qload.core.tensor.Shape;
import dev.qload.core.tensor.Tensor;

/** timm.layers.LayerScale: {@code x · gamma} per channel ({@code ls1}, {@code ls2} of DeiT-3 blocks). */
public final class LayerScale extends TimmModule {
    private final int dim;

    public LayerScale(int dim, double initValues, DType dtype) {
        this.dim = dim;
        RandomInit.fill(registerParameter("gamma", Tensor.empty(Shape.of(dim), dtype)), (float) initValues);
    }

    /** In place, on {@code [tokens, dim]} rows. */
    public void forward(float[] x) {
        float[] gamma = floats("gamma");
        for (int i = 0; i < x.length; i++) x[i] *= gamma[i % dim];
    }

    @Override
    public String typeName() {
        return "LayerScale";
    }
}
