package dev.qload.timm.vit;

import dev.qload.core.kernel.Kernels;
import dev.qload.core.nn.Linear;
import dev.qload.core.tensor.DType;
import dev.qload.timm.kernel.SelfAttention;
import dev.qload.timm.nn.TimmModule;
import dev.qload.timm.nn.TokenMixer;

/** vision_transformer.Attention: fused {@code qkv} (bias per {@code qkv_bias}), no q/k norm, then {@code proj}. */
final class VitAttention extends TimmModule implements TokenMixer {
    private final int dim;
    private final int heads;

    VitAttention(int dim, int heads, boolean qkvBias, DType dtype) {
        this.dim = dim;
        this.heads = heads;
        registerChild("qkv", new Linear(dim, 3L * dim, qkvBias, dtype));
        registerChild("proj", new Linear(dim, dim, true, dtype));
    }

    @Override
    public float[] forward(Kernels k, float[] x, int tokens) {
        float[] qkv = new float[tokens * 3 * dim];
        linear("qkv").forward(k, x, tokens, qkv);
        float[] mixed = new float[tokens * dim];
        SelfAttention.attend(k, qkv, 0, tokens, heads, dim / heads, null, mixed, 0);
        float[] out = new float[tokens * dim];
        linear("proj").forward(k, mixed, tokens, out);
        return out;
    }

    @Override
    public String typeName() {
        return "Attention";
    }
}
