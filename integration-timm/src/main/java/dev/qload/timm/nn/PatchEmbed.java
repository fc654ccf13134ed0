package dev.qload.timm.nn;

import dev.qload.core.kernel.Kernels;
import dev.qload.core.tensor.DType;
import dev.qload.timm.kernel.Convolution;
import dev.qload.timm.kernel.Convolution.FeatureMap;

/**
 * timm.layers.PatchEmbed: a convolution with kernel = stride = patch size ({@code proj}), then an
 * optional LayerNorm ({@code norm}, Swin). The result is channels-last: one token per patch, row by
 * row, which is ViT's {@code flatten(2).transpose(1, 2)} and Swin's NHWC alike.
 */
public final class PatchEmbed extends TimmModule {
    private final int imageSize;
    private final int patchSize;
    private final int dim;

    public PatchEmbed(int imageSize, int patchSize, int inChannels, int dim, boolean bias, double normEps, DType dtype) {
        this.imageSize = imageSize;
        this.patchSize = patchSize;
        this.dim = dim;
        registerChild("proj", new Conv2d(inChannels, dim, patchSize, patchSize, 0, bias, dtype));
        if (normEps > 0) registerChild("norm", new LayerNorm(dim, normEps, dtype));
    }

    /** Patches per side. */
    public int gridSize() {
        return imageSize / patchSize;
    }

    public int imageSize() {
        return imageSize;
    }

    /** {@code image} is {@code [3, size, size]} at {@code offset}; returns {@code [grid², dim]}. */
    public float[] forward(Kernels k, float[] image, int offset, int channels) {
        FeatureMap x = Convolution.channelsLast(image, offset, channels, imageSize, imageSize);
        float[] tokens = child("proj", Conv2d.class).forward(k, x).values();
        LayerNorm norm = child("norm", LayerNorm.class);
        if (norm != null) norm.forward(k, tokens, tokens.length / dim, tokens);
        return tokens;
    }

    @Override
    public String typeName() {
        return "PatchEmbed";
    }
}
