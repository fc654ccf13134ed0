package dev.qload.timm.nn;

import dev.qload.core.kernel.Kernels;
import dev.qload.core.nn.Linear;
import dev.qload.core.tensor.DType;

/**
 * timm.layers.GluMlp as {@code SwiGLUPacked} (EVA-02): {@code fc1} packs both halves,
 * {@code [x1; x2] = fc1(x)}, then {@code fc2(silu(x1) · x2)} ({@code gate_last=False}).
 */
public final class GluMlp extends TimmModule implements TokenMixer {
    private final int dim;
    private final int half;

    /** @param packedHidden fc1's output width, twice the gated width (timm's {@code hidden_features}). */
    public GluMlp(int dim, int packedHidden, DType dtype) {
        this.dim = dim;
        this.half = packedHidden / 2;
        registerChild("fc1", new Linear(dim, packedHidden, true, dtype));
        registerChild("fc2", new Linear(half, dim, true, dtype));
    }

    @Override
    public float[] forward(Kernels k, float[] x, int tokens) {
        float[] packed = new float[tokens * 2 * half];
        linear("fc1").forward(k, x, tokens, packed);
        float[] gated = new float[tokens * half];
        float[] up = new float[tokens * half];
        for (int t = 0; t < tokens; t++) {
            System.arraycopy(packed, t * 2 * half, gated, t * half, half);
            System.arraycopy(packed, t * 2 * half + half, up, t * half, half);
        }
        k.siluMul(gated, up, 0, gated.length);
        float[] out = new float[tokens * dim];
        linear("fc2").forward(k, gated, tokens, out);
        return out;
    }

    @Override
    public String typeName() {
        return "GluMlp";
    }
}
