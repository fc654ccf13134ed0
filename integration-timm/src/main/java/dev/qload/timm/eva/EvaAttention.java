package dev.qload.timm.eva;

import dev.qload.core.kernel.Kernels;
import dev.qload.core.nn.Linear;
import dev.qload.core.nn.RandomInit;
import dev.qload.core.tensor.DType;
import dev.qload.core.tensor.Shape;
import dev.qload.core.tensor.Tensor;
import dev.qload.timm.kernel.SelfAttention;
import dev.qload.timm.nn.RebuiltBuffers;
import dev.qload.timm.nn.TimmModule;
import dev.qload.timm.nn.TokenMixer;

/**
 * eva.EvaAttention with a fused {@code qkv} (no bias of its own) and {@code qkv_bias}: the bias is
 * {@code cat(q_bias, k_bias, v_bias)}, where {@code k_bias} is a non-persistent buffer of zeros
 * (EVA has no key bias; the buffer exists so the concatenation is one tensor). Rotary embedding
 * ({@code apply_rot_embed_cat}, interleaved) is applied to q and k of every token but the prefix.
 */
final class EvaAttention extends TimmModule implements TokenMixer {
    private final int dim;
    private final int heads;
    private final int prefixTokens;
    private final RotaryEmbeddingCat rope;

    EvaAttention(int dim, int heads, int prefixTokens, RotaryEmbeddingCat rope, RebuiltBuffers declared, DType dtype) {
        this.dim = dim;
        this.heads = heads;
        this.prefixTokens = prefixTokens;
        this.rope = rope;
        registerChild("qkv", new Linear(dim, 3L * dim, false, dtype));
        RandomInit.fill(registerParameter("q_bias", Tensor.empty(Shape.of(dim), dtype)), 0f); // reset_parameters: zeros_
        registerRebuiltBuffer("k_bias", Tensor.empty(Shape.of(dim), dtype), EvaAttention::zeros, declared);
        RandomInit.fill(registerParameter("v_bias", Tensor.empty(Shape.of(dim), dtype)), 0f);
        registerChild("proj", new Linear(dim, dim, true, dtype));
    }

    /** EvaAttention._init_buffers: {@code k_bias.zero_()}. */
    private static void zeros(Tensor t) {
        t.data().fill((byte) 0);
    }

    @Override
    public float[] forward(Kernels k, float[] x, int tokens) {
        float[] qkv = new float[tokens * 3 * dim];
        linear("qkv").forward(k, x, tokens, qkv);
        float[] q = floats("q_bias"), kb = floats("k_bias"), v = floats("v_bias");
        for (int t = 0; t < tokens; t++) {
            int row = t * 3 * dim;
            for (int j = 0; j < dim; j++) {
                qkv[row + j] += q[j];
                qkv[row + dim + j] += kb[j];
                qkv[row + 2 * dim + j] += v[j];
            }
        }
        rotate(qkv, tokens, 0);
        rotate(qkv, tokens, dim);
        float[] mixed = new float[tokens * dim];
        SelfAttention.attend(k, qkv, 0, tokens, heads, dim / heads, null, mixed, 0);
        float[] out = new float[tokens * dim];
        linear("proj").forward(k, mixed, tokens, out);
        return out;
    }

    /** {@code x·cos + rot(x)·sin} per head, where {@code rot([x0, x1, …]) = [−x1, x0, …]}; {@code part} 0 is q, dim is k. */
    private void rotate(float[] qkv, int tokens, int part) {
        float[] table = rope.table();
        int hd = rope.dim();
        for (int t = prefixTokens; t < tokens; t++) {
            int p = (t - prefixTokens) * 2 * hd;
            for (int h = 0; h < heads; h++) {
                int at = t * 3 * dim + part + h * hd;
                for (int m = 0; m < hd; m += 2) {
                    float x0 = qkv[at + m], x1 = qkv[at + m + 1];
                    qkv[at + m] = x0 * table[p + hd + m] - x1 * table[p + m];
                    qkv[at + m + 1] = x1 * table[p + hd + m + 1] + x0 * table[p + m + 1];
                }
            }
        }
    }

    @Override
    public String typeName() {
        return "EvaAttention";
    }
}
