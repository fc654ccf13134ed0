package dev.qload.timm.swin;

import dev.qload.core.kernel.Kernels;
import dev.qload.core.nn.Linear;
import dev.qload.core.nn.RandomInit;
import dev.qload.core.tensor.DType;
import dev.qload.core.tensor.Shape;
import dev.qload.core.tensor.Tensor;
import dev.qload.timm.kernel.SelfAttention;
import dev.qload.timm.nn.RebuiltBuffers;
import dev.qload.timm.nn.TimmModule;

/**
 * swin_transformer.WindowAttention: attention inside each window with a learned relative position
 * bias, {@code relative_position_bias_table[relative_position_index]}. The index is a
 * non-persistent I64 buffer {@code [ws², ws²]} rebuilt by {@code _init_buffers()} (see
 * {@link WindowGeometry#relativePositionIndex}).
 */
final class WindowAttention extends TimmModule {
    private final int dim;
    private final int heads;
    private final int tokens;

    WindowAttention(int dim, int heads, int ws, boolean qkvBias, RebuiltBuffers declared, DType dtype) {
        this.dim = dim;
        this.heads = heads;
        this.tokens = ws * ws;
        // reset_parameters: trunc_normal_(std=.02)
        RandomInit.normal(registerParameter("relative_position_bias_table", Tensor.empty(Shape.of((2L * ws - 1) * (2L * ws - 1), heads), dtype)), 0.02);
        registerRebuiltBuffer("relative_position_index", Tensor.empty(Shape.of(tokens, tokens), DType.I64), t -> {
            long[] index = WindowGeometry.relativePositionIndex(ws);
            for (int i = 0; i < index.length; i++) t.data().setAtIndex(java.lang.foreign.ValueLayout.JAVA_LONG_UNALIGNED, i, index[i]);
        }, declared);
        registerChild("qkv", new Linear(dim, 3L * dim, qkvBias, dtype));
        registerChild("proj", new Linear(dim, dim, true, dtype));
    }

    /**
     * All windows of one image at once: {@code x [windows·ws², dim]} in window order; {@code mask}
     * {@code [windows, ws², ws²]} or null. Returns the projected output in the same order.
     */
    float[] forward(Kernels k, float[] x, int windows, float[] mask) {
        int rows = windows * tokens;
        float[] qkv = new float[rows * 3 * dim];
        linear("qkv").forward(k, x, rows, qkv);
        float[] table = floats("relative_position_bias_table");
        float[] index = floats("relative_position_index");
        float[] mixed = new float[rows * dim];
        for (int w = 0; w < windows; w++) {
            int maskAt = w * tokens * tokens;
            SelfAttention.attend(k, qkv, w * tokens * 3 * dim, tokens, heads, dim / heads, (h, i, scores) -> {
                for (int j = 0; j < tokens; j++) {
                    scores[j] += table[(int) index[i * tokens + j] * heads + h];
                    if (mask != null) scores[j] += mask[maskAt + i * tokens + j];
                }
            }, mixed, w * tokens * dim);
        }
        float[] out = new float[rows * dim];
        linear("proj").forward(k, mixed, rows, out);
        return out;
    }

    @Override
    public String typeName() {
        return "WindowAttention";
    }
}
