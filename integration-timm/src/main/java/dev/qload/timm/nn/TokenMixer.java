package dev.qload.timm.nn;

import dev.qload.core.kernel.Kernels;

/** A per-token feed-forward block ({@link Mlp}, {@link GluMlp}): {@code [tokens, dim] → [tokens, dim]}. */
public interface TokenMixer {
    float[] forward(Kernels k, float[] x, int tokens);
}
