package dev.qload.timm.eva;

import dev.qload.core.module.Module;
import dev.qload.core.tensor.DType;
import dev.qload.timm.TimmConfig;
import dev.qload.timm.nn.GluMlp;
import dev.qload.timm.nn.Mlp;
import dev.qload.timm.nn.RebuiltBuffers;
import dev.qload.timm.nn.TransformerBlock;
import dev.qload.timm.vit.VisionTransformer;

/**
 * {@code Eva(**model_args)} for eva02_* (eva.py): class token, learned position embedding plus a
 * rotary table ({@code rope}, RotaryEmbeddingCat with {@code in_pixels=False} over the patch grid),
 * SwiGLU (packed) or GELU MLP, average pool with {@code fc_norm}.
 */
public final class EvaBuilder {
    private EvaBuilder() {}

    public static VisionTransformer build(TimmConfig c, DType dtype, RebuiltBuffers declared) {
        String pool = c.stringArg("global_pool");
        if (!pool.equals("avg") && !pool.equals("token")) throw c.unsupported("global_pool", "only 'token' and 'avg' pooling are implemented");
        if (!c.boolArg("qkv_bias")) throw c.unsupported("qkv_bias", "only the fused qkv with q/k/v biases is implemented");
        if (!c.boolArg("use_rot_pos_emb")) throw c.unsupported("use_rot_pos_emb", "EVA without rotary tables is not implemented");
        int dim = c.intArg("embed_dim");
        int heads = c.intArg("num_heads");
        if (heads == 0 || dim % heads != 0 || (dim / heads) % 4 != 0) {
            throw c.unsupported("num_heads", "the head size embed_dim / num_heads must be a multiple of 4 for the rotary table");
        }
        boolean classToken = c.boolArg("class_token");
        var layout = new VisionTransformer.Layout("Eva", c.intArg("img_size"), c.intArg("patch_size"), dim, c.intArg("depth"),
                c.numClasses(), classToken, 0, false, c.boolArg("use_abs_pos_emb"), pool, pool.equals("avg"));
        int grid = layout.imageSize() / layout.patchSize();
        int[] ref = c.intListArg("ref_feat_shape");
        if (ref.length != 2) throw c.unsupported("ref_feat_shape", "it must name a height and a width");
        RotaryEmbeddingCat[] rope = new RotaryEmbeddingCat[1];
        int hidden = (int) (dim * c.doubleArg("mlp_ratio")); // EvaBlock: hidden_features = int(dim * mlp_ratio)
        boolean swiglu = c.boolArg("swiglu_mlp");
        int prefix = classToken ? 1 : 0;
        return new VisionTransformer(layout, dtype,
                (Module root) -> rope[0] = root.registerChild("rope",
                        new RotaryEmbeddingCat(dim / heads, grid, c.doubleArg("rope_temperature"), ref, declared)),
                i -> new TransformerBlock(dim, new EvaAttention(dim, heads, prefix, rope[0], declared, dtype),
                        swiglu ? new GluMlp(dim, hidden * 2, dtype) : new Mlp(dim, hidden, dtype), Double.NaN, dtype));
    }
}
