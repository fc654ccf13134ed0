package dev.qload.timm.swin;

import dev.qload.core.kernel.Kernels;
import dev.qload.core.nn.ModuleList;
import dev.qload.core.tensor.DType;
import dev.qload.timm.nn.RebuiltBuffers;
import dev.qload.timm.nn.TimmModule;

/** swin_transformer.SwinTransformerStage: optional PatchMerging, then blocks alternating unshifted and shifted windows. */
final class SwinTransformerStage extends TimmModule {
    private final int inResolution;
    private final boolean downsample;
    private final ModuleList<SwinTransformerBlock> blocks;

    SwinTransformerStage(int dim, int outDim, int inResolution, int depth, boolean downsample, int heads, int windowSize,
                         double mlpRatio, boolean qkvBias, RebuiltBuffers declared, DType dtype) {
        this.inResolution = inResolution;
        this.downsample = downsample;
        if (downsample) {
            if (inResolution % 2 != 0) throw new IllegalArgumentException("patch merging of an odd " + inResolution + "² map");
            registerChild("downsample", new PatchMerging(dim, outDim, dtype));
        }
        int resolution = downsample ? inResolution / 2 : inResolution;
        blocks = registerChild("blocks", new ModuleList<>());
        for (int i = 0; i < depth; i++) {
            blocks.add(new SwinTransformerBlock(outDim, resolution, heads, windowSize, i % 2 == 0 ? 0 : windowSize / 2, mlpRatio, qkvBias,
                    declared, dtype));
        }
    }

    float[] forward(Kernels k, float[] x) {
        float[] y = downsample ? child("downsample", PatchMerging.class).forward(k, x, inResolution) : x;
        for (int i = 0; i < blocks.size(); i++) blocks.get(i).forward(k, y);
        return y;
    }

    @Override
    public String typeName() {
        return "SwinTransformerStage";
    }
}
