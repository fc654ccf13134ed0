package dev.qload.timm.vit;

import dev.qload.core.kernel.Kernels;
import dev.qload.core.module.Module;
import dev.qload.core.nn.Linear;
import dev.qload.core.nn.ModuleList;
import dev.qload.core.nn.RandomInit;
import dev.qload.core.tensor.DType;
import dev.qload.core.tensor.Shape;
import dev.qload.core.tensor.Tensor;
import dev.qload.timm.kernel.Pooling;
import dev.qload.timm.nn.ClassifierModel;
import dev.qload.timm.nn.LayerNorm;
import dev.qload.timm.nn.PatchEmbed;
import dev.qload.timm.nn.TransformerBlock;
import java.util.function.IntFunction;

/**
 * The token trunk timm's {@code VisionTransformer} and {@code Eva} share: patch embedding, class
 * and register tokens, a learned position embedding, pre-norm blocks, then a pool and the head.
 *
 * <p>Position embedding (vision_transformer.py {@code _pos_embed}, eva.py {@code _pos_embed}): with
 * {@code no_embed_class} (DeiT-3, register models) {@code pos_embed} covers the patches only and is
 * added before the prefix tokens are concatenated; otherwise it covers prefix and patches and is
 * added after. Pool: {@code token} takes the class token, {@code avg} the mean of the patch tokens.
 * {@code norm} runs before the pool unless {@code fc_norm} (default: pool is avg) runs after it.
 */
public final class VisionTransformer extends ClassifierModel {
    /** The model-level shape of the trunk; blocks come from the family. */
    public record Layout(String typeName, int imageSize, int patchSize, int dim, int depth, int numClasses, boolean classToken,
                         int regTokens, boolean noEmbedClass, boolean absPosEmbed, String globalPool, boolean fcNorm) {
        int prefixTokens() {
            return (classToken ? 1 : 0) + regTokens;
        }

        int patches() {
            int grid = imageSize / patchSize;
            return grid * grid;
        }
    }

    private final Layout layout;
    private final ModuleList<TransformerBlock> blocks;

    /** @param extras registers family-specific children between the embeddings and the blocks (EVA's {@code rope}). */
    public VisionTransformer(Layout layout, DType dtype, java.util.function.Consumer<Module> extras, IntFunction<TransformerBlock> block) {
        super(layout.imageSize(), layout.numClasses());
        this.layout = layout;
        if (layout.imageSize() % layout.patchSize() != 0) {
            throw new IllegalArgumentException("img_size " + layout.imageSize() + " is not a multiple of patch_size " + layout.patchSize());
        }
        int d = layout.dim();
        registerChild("patch_embed", new PatchEmbed(layout.imageSize(), layout.patchSize(), 3, d, true, 0, dtype));
        // vision_transformer.py init_weights: trunc_normal_(pos_embed, std=.02), normal_(cls_token, std=1e-6)
        if (layout.classToken()) RandomInit.normal(registerParameter("cls_token", Tensor.empty(Shape.of(1, 1, d), dtype)), 1e-6);
        if (layout.regTokens() > 0) {
            RandomInit.normal(registerParameter("reg_token", Tensor.empty(Shape.of(1, layout.regTokens(), d), dtype)), 1e-6);
        }
        if (layout.absPosEmbed()) {
            int positions = layout.noEmbedClass() ? layout.patches() : layout.patches() + layout.prefixTokens();
            RandomInit.normal(registerParameter("pos_embed", Tensor.empty(Shape.of(1, positions, d), dtype)), 0.02);
        }
        extras.accept(this);
        blocks = registerChild("blocks", new ModuleList<>());
        for (int i = 0; i < layout.depth(); i++) blocks.add(block.apply(i));
        if (layout.fcNorm()) registerChild("fc_norm", new LayerNorm(d, LayerNorm.TIMM_EPS, dtype));
        else registerChild("norm", new LayerNorm(d, LayerNorm.TIMM_EPS, dtype));
        registerChild("head", new Linear(d, layout.numClasses(), true, dtype));
    }

    public Layout layout() {
        return layout;
    }

    @Override
    public float[] classify(Kernels k, float[] pixels, int offset) {
        int d = layout.dim();
        float[] patches = child("patch_embed", PatchEmbed.class).forward(k, pixels, offset, 3);
        int tokens = layout.prefixTokens() + layout.patches();
        float[] x = embed(patches, tokens);
        for (int i = 0; i < blocks.size(); i++) blocks.get(i).forward(k, x, tokens);
        LayerNorm norm = child("norm", LayerNorm.class);
        if (norm != null) norm.forward(k, x, tokens, x);
        float[] pooled = layout.globalPool().equals("token") ? java.util.Arrays.copyOf(x, d)
                : Pooling.meanRows(x, layout.prefixTokens(), tokens, d);
        LayerNorm fcNorm = child("fc_norm", LayerNorm.class);
        if (fcNorm != null) fcNorm.forward(k, pooled, 1, pooled);
        float[] logits = new float[layout.numClasses()];
        linear("head").forward(k, pooled, 1, logits);
        return logits;
    }

    /** Prefix tokens then patches, with the position embedding added on the side timm adds it. */
    private float[] embed(float[] patches, int tokens) {
        int d = layout.dim();
        int prefix = layout.prefixTokens();
        float[] x = new float[tokens * d];
        int at = 0;
        if (layout.classToken()) {
            System.arraycopy(floats("cls_token"), 0, x, 0, d);
            at = d;
        }
        if (layout.regTokens() > 0) System.arraycopy(floats("reg_token"), 0, x, at, layout.regTokens() * d);
        System.arraycopy(patches, 0, x, prefix * d, patches.length);
        if (layout.absPosEmbed()) {
            float[] pos = floats("pos_embed");
            int from = layout.noEmbedClass() ? prefix * d : 0;
            for (int i = 0; i < pos.length; i++) x[from + i] += pos[i];
        }
        return x;
    }

    @Override
    public String typeName() {
        return layout.typeName();
    }
}
