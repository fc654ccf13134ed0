package dev.qload.timm.swin;

import dev.qload.core.kernel.Kernels;
import dev.qload.core.nn.Linear;
import dev.qload.core.tensor.DType;
import dev.qload.timm.nn.LayerNorm;
import dev.qload.timm.nn.TimmModule;

/**
 * swin_transformer.PatchMerging: each 2 × 2 block of pixels becomes one token of 4·C features,
 * concatenated in the order of {@code reshape(B, H/2, 2, W/2, 2, C).permute(0, 1, 3, 4, 2, 5)}:
 * (row 0, col 0), (row 1, col 0), (row 0, col 1), (row 1, col 1); then LayerNorm and a
 * bias-free {@code reduction} to {@code out_dim}.
 */
final class PatchMerging extends TimmModule {
    private final int dim;
    private final int outDim;

    PatchMerging(int dim, int outDim, DType dtype) {
        this.dim = dim;
        this.outDim = outDim;
        registerChild("norm", new LayerNorm(4 * dim, LayerNorm.TORCH_EPS, dtype));
        registerChild("reduction", new Linear(4L * dim, outDim, false, dtype));
    }

    /** {@code x [size², dim]} → {@code [(size/2)², outDim]}; {@code size} is even (checked at build). */
    float[] forward(Kernels k, float[] x, int size) {
        int half = size / 2;
        float[] merged = new float[half * half * 4 * dim];
        for (int i = 0; i < half; i++) {
            for (int j = 0; j < half; j++) {
                int dst = (i * half + j) * 4 * dim;
                for (int q = 0; q < 4; q++) {
                    int r = 2 * i + q % 2, c = 2 * j + q / 2;
                    System.arraycopy(x, (r * size + c) * dim, merged, dst + q * dim, dim);
                }
            }
        }
        child("norm", LayerNorm.class).forward(k, merged, half * half, merged);
        float[] out = new float[half * half * outDim];
        linear("reduction").forward(k, merged, half * half, out);
        return out;
    }

    @Override
    public String typeName() {
        return "PatchMerging";
    }
}
