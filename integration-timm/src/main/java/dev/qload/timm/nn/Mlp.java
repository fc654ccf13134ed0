package dev.qload.timm.nn;

import dev.qload.core.kernel.Kernels;
import dev.qload.core.nn.Linear;
import dev.qload.core.tensor.DType;

/** timm.layers.Mlp: {@code fc2(GELU(fc1(x)))}, exact (erf) GELU as {@code nn.GELU()}. */
public final class Mlp extends TimmModule implements TokenMixer {
    private final int hidden;
    private final int dim;

    public Mlp(int dim, int hidden, DType dtype) {
        this.dim = dim;
        this.hidden = hidden;
        registerChild("fc1", new Linear(dim, hidden, true, dtype));
        registerChild("fc2", new Linear(hidden, dim, true, dtype));
    }

    @Override
    public float[] forward(Kernels k, float[] x, int tokens) {
        float[] h = new float[tokens * hidden];
        linear("fc1").forward(k, x, tokens, h);
        k.gelu(h, 0, h.length);
        float[] out = new float[tokens * dim];
        linear("fc2").forward(k, h, tokens, out);
        return out;
    }

    @Override
    public String typeName() {
        return "Mlp";
    }
}
