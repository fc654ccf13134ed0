package dev.qload.timm.swin;

import dev.qload.core.kernel.Kernels;
import dev.qload.core.tensor.DType;
import dev.qload.core.tensor.Shape;
import dev.qload.core.tensor.Tensor;
import dev.qload.timm.nn.LayerNorm;
import dev.qload.timm.nn.Mlp;
import dev.qload.timm.nn.RebuiltBuffers;
import dev.qload.timm.nn.TimmModule;

/**
 * swin_transformer.SwinTransformerBlock: (shifted) window attention, then an MLP, each pre-norm
 * with a residual. A shifted block ({@code shift > 0}) owns {@code attn_mask}, a non-persistent
 * buffer in the model dtype (timm builds it in {@code norm1.weight}'s dtype) rebuilt by
 * {@code _init_buffers()}; an unshifted block has none ({@code register_buffer("attn_mask", None)}).
 * As {@code _calc_window_shift} does, a map no larger than the window is one unshifted window.
 */
final class SwinTransformerBlock extends TimmModule {
    private final int dim;
    private final int resolution;
    private final int ws;
    private final int shift;

    SwinTransformerBlock(int dim, int resolution, int heads, int windowSize, int shiftSize, double mlpRatio, boolean qkvBias,
                         RebuiltBuffers declared, DType dtype) {
        this.dim = dim;
        this.resolution = resolution;
        this.ws = resolution <= windowSize ? resolution : windowSize;
        this.shift = resolution <= windowSize ? 0 : shiftSize;
        if (resolution % ws != 0) throw new IllegalArgumentException("a " + resolution + "² map is not a whole number of " + ws + "² windows");
        registerChild("norm1", new LayerNorm(dim, LayerNorm.TORCH_EPS, dtype));
        registerChild("attn", new WindowAttention(dim, heads, ws, qkvBias, declared, dtype));
        registerChild("norm2", new LayerNorm(dim, LayerNorm.TORCH_EPS, dtype));
        registerChild("mlp", new Mlp(dim, (int) (dim * mlpRatio), dtype));
        if (shift > 0) {
            int windows = (resolution / ws) * (resolution / ws);
            registerRebuiltBuffer("attn_mask", Tensor.empty(Shape.of(windows, (long) ws * ws, (long) ws * ws), dtype), t -> {
                float[] mask = WindowGeometry.shiftedWindowMask(resolution, resolution, ws, shift);
                for (int i = 0; i < mask.length; i++) t.setFloat(i, mask[i]);
            }, declared);
        }
    }

    /** One block over an image's {@code [resolution², dim]} rows, in place. */
    void forward(Kernels k, float[] x) {
        int pixels = resolution * resolution;
        float[] h = new float[pixels * dim];
        child("norm1", LayerNorm.class).forward(k, x, pixels, h);
        int windows = pixels / (ws * ws);
        float[] gathered = new float[pixels * dim];
        for (int w = 0; w < windows; w++) {
            for (int t = 0; t < ws * ws; t++) {
                int src = WindowGeometry.sourcePixel(w, t, resolution, resolution, ws, shift);
                System.arraycopy(h, src * dim, gathered, (w * ws * ws + t) * dim, dim);
            }
        }
        float[] mask = shift > 0 ? floats("attn_mask") : null;
        float[] attended = child("attn", WindowAttention.class).forward(k, gathered, windows, mask);
        // window_reverse and the reverse roll put each token back where it was gathered from
        for (int w = 0; w < windows; w++) {
            for (int t = 0; t < ws * ws; t++) {
                int dst = WindowGeometry.sourcePixel(w, t, resolution, resolution, ws, shift);
                k.add(attended, (w * ws * ws + t) * dim, x, dst * dim, dim);
            }
        }
        child("norm2", LayerNorm.class).forward(k, x, pixels, h);
        float[] y = child("mlp", Mlp.class).forward(k, h, pixels);
        k.add(y, 0, x, 0, x.length);
    }

    @Override
    public String typeName() {
        return "SwinTransformerBlock";
    }
}
