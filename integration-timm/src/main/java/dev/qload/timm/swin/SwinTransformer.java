package dev.qload.timm.swin;

import dev.qload.core.kernel.Kernels;
import dev.qload.core.nn.ModuleList;
import dev.qload.core.tensor.DType;
import dev.qload.timm.TimmConfig;
import dev.qload.timm.nn.ClassifierHead;
import dev.qload.timm.nn.ClassifierModel;
import dev.qload.timm.nn.LayerNorm;
import dev.qload.timm.nn.PatchEmbed;
import dev.qload.timm.nn.RebuiltBuffers;

/**
 * swin_transformer.SwinTransformer (v1): PatchEmbed with LayerNorm (NHWC out), stages whose
 * widths double as the maps halve ({@code embed_dim · 2^i}), a final LayerNorm, average pool and
 * {@code head.fc}. Norms are {@code nn.LayerNorm} (eps 1e-5).
 */
public final class SwinTransformer extends ClassifierModel {
    private final int finalDim;
    private final ModuleList<SwinTransformerStage> layers;

    public SwinTransformer(TimmConfig c, DType dtype, RebuiltBuffers declared) {
        super(c.intArg("img_size"), c.numClasses());
        if (!c.stringArg("global_pool").equals("avg")) throw c.unsupported("global_pool", "only 'avg' is implemented for Swin");
        int imageSize = imageSize();
        int patch = c.intArg("patch_size");
        int embed = c.intArg("embed_dim");
        int[] depths = c.intListArg("depths");
        int[] heads = c.intListArg("num_heads");
        if (heads.length != depths.length) throw c.unsupported("num_heads", "it needs one entry per stage (" + depths.length + ")");
        if (imageSize % patch != 0) throw c.unsupported("img_size", "it is not a multiple of patch_size " + patch);
        int window = c.intArg("window_size");
        for (int i = 0, map = imageSize / patch; i < depths.length; i++) {
            if (i > 0 && map % 2 != 0) throw c.unsupported("img_size", "stage " + i + " would merge patches of an odd " + map + "² map");
            if (i > 0) map /= 2;
            int ws = Math.min(map, window);
            if (map % ws != 0) {
                throw c.unsupported("img_size", "stage " + i + "'s " + map + "² map is not a whole number of " + ws + "² windows (timm pads it; qload does not)");
            }
        }
        registerChild("patch_embed", new PatchEmbed(imageSize, patch, 3, embed, true, LayerNorm.TORCH_EPS, dtype));
        layers = registerChild("layers", new ModuleList<>());
        int grid = imageSize / patch;
        int dim = embed;
        for (int i = 0; i < depths.length; i++) {
            int outDim = embed << i;
            if (outDim % heads[i] != 0) throw c.unsupported("num_heads", "stage " + i + " width " + outDim + " is not a multiple of " + heads[i]);
            layers.add(new SwinTransformerStage(dim, outDim, grid, depths[i], i > 0, heads[i], window, c.doubleArg("mlp_ratio"),
                    c.boolArg("qkv_bias"), declared, dtype));
            if (i > 0) grid /= 2;
            dim = outDim;
        }
        this.finalDim = dim;
        registerChild("norm", new LayerNorm(dim, LayerNorm.TORCH_EPS, dtype));
        registerChild("head", new ClassifierHead(dim, numClasses(), dtype));
    }

    @Override
    public float[] classify(Kernels k, float[] pixels, int offset) {
        float[] x = child("patch_embed", PatchEmbed.class).forward(k, pixels, offset, 3);
        for (int i = 0; i < layers.size(); i++) x = layers.get(i).forward(k, x);
        int rows = x.length / finalDim;
        child("norm", LayerNorm.class).forward(k, x, rows, x);
        return child("head", ClassifierHead.class).forward(k, x, rows);
    }

    @Override
    public String typeName() {
        return "SwinTransformer";
    }
}
