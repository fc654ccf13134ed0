package dev.qload.timm.nn;

import dev.qload.core.kernel.Kernels;
import dev.qload.core.module.Module;
import dev.qload.core.tensor.DType;

/**
 * The pre-norm block of ViT ({@code vision_transformer.Block}) and EVA ({@code eva.EvaBlock}):
 * {@code x += ls1(attn(norm1(x)))}, {@code x += ls2(mlp(norm2(x)))}, with the attention and MLP
 * the model family supplies and LayerScale only when {@code init_values} is set.
 */
public final class TransformerBlock extends TimmModule {
    private final int dim;

    public <A extends Module & TokenMixer, M extends Module & TokenMixer> TransformerBlock(int dim, A attention, M mlp,
                                                                                         double initValues, DType dtype) {
        this.dim = dim;
        registerChild("norm1", new LayerNorm(dim, LayerNorm.TIMM_EPS, dtype));
        registerChild("attn", attention);
        if (!Double.isNaN(initValues)) registerChild("ls1", new LayerScale(dim, initValues, dtype));
        registerChild("norm2", new LayerNorm(dim, LayerNorm.TIMM_EPS, dtype));
        registerChild("mlp", mlp);
        if (!Double.isNaN(initValues)) registerChild("ls2", new LayerScale(dim, initValues, dtype));
    }

    /** One block over {@code x [tokens, dim]}, in place. */
    public void forward(Kernels k, float[] x, int tokens) {
        residual(k, x, tokens, "norm1", "attn", "ls1");
        residual(k, x, tokens, "norm2", "mlp", "ls2");
    }

    private void residual(Kernels k, float[] x, int tokens, String norm, String mixer, String scale) {
        float[] h = new float[tokens * dim];
        child(norm, LayerNorm.class).forward(k, x, tokens, h);
        float[] y = ((TokenMixer) children().get(mixer)).forward(k, h, tokens);
        LayerScale ls = child(scale, LayerScale.class);
        if (ls != null) ls.forward(y);
        k.add(y, 0, x, 0, x.length);
    }

    @Override
    public String typeName() {
        return "Block";
    }
}
