package dev.qload.core.nn;

import dev.qload.core.kernel.Kernels;

/**
 * A module that computes {@code y = x·Wᵀ + b}: the dense {@link Linear} and every quantized
 * replacement of it. Forward passes call this, so a quantizer's module runs without being
 * dequantized first.
 */
public interface LinearForward {
    long inFeatures();

    long outFeatures();

    /** {@code out[tokens × outFeatures] = x[tokens × inFeatures] · Wᵀ + b}. */
    void forward(Kernels kernels, float[] x, int tokens, float[] out);
}
