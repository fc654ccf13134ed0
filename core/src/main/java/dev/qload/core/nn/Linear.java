package dev.qload.core.nn;

import dev.qload.core.kernel.Kernels;
import dev.qload.core.kernel.MatMul;
import dev.qload.core.module.Module;
import dev.qload.core.tensor.DType;
import dev.qload.core.tensor.Shape;
import dev.qload.core.tensor.Tensor;

/**
 * {@code nn.Linear}: {@code weight} is {@code [out_features, in_features]}, optional {@code bias}
 * {@code [out_features]}. Built eagerly it draws PyTorch's default init
 * ({@code kaiming_uniform_(a=sqrt(5))}, i.e. uniform in ±1/sqrt(in)); on META it draws nothing.
 */
public class Linear extends Module implements LinearForward {
    private final long inFeatures;
    private final long outFeatures;
    private final boolean hasBias;
    private volatile Tensor biasSource; // the bias tensor biasFloats was widened from
    private volatile float[] biasFloats;

    public Linear(long inFeatures, long outFeatures, boolean bias, DType dtype) {
        this.inFeatures = inFeatures;
        this.outFeatures = outFeatures;
        this.hasBias = bias;
        double bound = 1.0 / Math.sqrt(Math.max(inFeatures, 1));
        RandomInit.uniform(registerParameter("weight", Tensor.empty(Shape.of(outFeatures, inFeatures), dtype)), bound);
        if (bias) RandomInit.uniform(registerParameter("bias", Tensor.empty(Shape.of(outFeatures), dtype)), bound);
    }

    @Override
    public long inFeatures() {
        return inFeatures;
    }

    @Override
    public long outFeatures() {
        return outFeatures;
    }

    public boolean hasBias() {
        return hasBias;
    }

    public Tensor weight() {
        return slot("weight").get();
    }

    /** The bias, or null when the layer has none. */
    public Tensor bias() {
        return hasBias ? slot("bias").get() : null;
    }

    @Override
    public void forward(Kernels kernels, float[] x, int tokens, float[] out) {
        MatMul.linear(kernels, weight(), hasBias ? biasAsFloats(kernels) : null, x, tokens, out);
    }

    /** The bias widened to F32 once; redone only if the loader replaced the tensor since. */
    private float[] biasAsFloats(Kernels kernels) {
        Tensor b = bias();
        if (biasSource != b) {
            float[] f = new float[Math.toIntExact(b.elementCount())];
            kernels.toFloat(b.data(), b.dtype(), 0, f, 0, f.length);
            biasFloats = f;
            biasSource = b;
        }
        return biasFloats;
    }
}
