package dev.qload.timm.nn;

import dev.qload.core.kernel.Kernels;
import dev.qload.core.nn.RandomInit;
import dev.qload.core.tensor.DType;
import dev.qload.core.tensor.Shape;
import dev.qload.core.tensor.Tensor;

/**
 * {@code nn.LayerNorm(dim, eps)} over the last dimension. timm's own {@code LayerNorm} (ViT, EVA)
 * defaults to eps 1e-6, {@code nn.LayerNorm} (Swin) to 1e-5: the caller passes the one its model uses.
 */
public final class LayerNorm extends TimmModule {
    /** timm.layers.norm.LayerNorm's default. */
    public static final double TIMM_EPS = 1e-6;
    /** torch.nn.LayerNorm's default. */
    public static final double TORCH_EPS = 1e-5;

    private final int dim;
    private final float eps;

    public LayerNorm(int dim, double eps, DType dtype) {
        this.dim = dim;
        this.eps = (float) eps;
        RandomInit.fill(registerParameter("weight", Tensor.empty(Shape.of(dim), dtype)), 1f);
        RandomInit.fill(registerParameter("bias", Tensor.empty(Shape.of(dim), dtype)), 0f);
    }

    /** Normalises each of {@code rows} rows of {@code x} into {@code out} (which may be {@code x}). */
    public void forward(Kernels k, float[] x, int rows, float[] out) {
        float[] w = floats("weight");
        float[] b = floats("bias");
        for (int r = 0; r < rows; r++) k.layerNorm(x, r * dim, dim, w, b, eps, out, r * dim);
    }

    @Override
    public String typeName() {
        return "LayerNorm";
    }
}
