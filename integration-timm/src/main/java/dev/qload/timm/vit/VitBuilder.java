package dev.qload.timm.vit;

import dev.qload.core.tensor.DType;
import dev.qload.timm.TimmConfig;
import dev.qload.timm.nn.Mlp;
import dev.qload.timm.nn.TransformerBlock;

/** {@code VisionTransformer(**model_args)} for vit_* and deit3_* (vision_transformer.py, deit.py). */
public final class VitBuilder {
    private VitBuilder() {}

    public static VisionTransformer build(TimmConfig c, DType dtype) {
        String pool = c.stringArg("global_pool");
        if (!pool.equals("token") && !pool.equals("avg")) throw c.unsupported("global_pool", "only 'token' and 'avg' pooling are implemented");
        if (pool.equals("token") && !c.boolArg("class_token")) throw c.unsupported("global_pool", "token pooling needs the class token");
        int dim = c.intArg("embed_dim");
        int heads = c.intArg("num_heads");
        if (heads == 0 || dim % heads != 0) throw c.unsupported("num_heads", "embed_dim " + dim + " is not a multiple of it");
        var layout = new VisionTransformer.Layout("VisionTransformer", c.intArg("img_size"), c.intArg("patch_size"), dim,
                c.intArg("depth"), c.numClasses(), c.boolArg("class_token"), c.intArg("reg_tokens"), c.boolArg("no_embed_class"),
                true, pool, c.optionalBoolArg("fc_norm", pool.equals("avg")));
        int hidden = (int) (dim * c.doubleArg("mlp_ratio")); // timm: int(dim * mlp_ratio)
        double initValues = c.optionalDoubleArg("init_values");
        boolean qkvBias = c.boolArg("qkv_bias");
        return new VisionTransformer(layout, dtype, root -> { }, i -> new TransformerBlock(dim,
                new VitAttention(dim, heads, qkvBias, dtype), new Mlp(dim, hidden, dtype), initValues, dtype));
    }
}
