package dev.qload.core.nn;

import dev.qload.core.module.Module;
import dev.qload.core.tensor.DType;
import dev.qload.core.tensor.Shape;
import dev.qload.core.tensor.Tensor;

/**
 * {@code nn.Linear}: {@code weight} is {@code [out_features, in_features]}, optional {@code bias}
 * {@code [out_features]}. Built eagerly it draws PyTorch's default init
 * ({@code kaiming_uniform_(a=sqrt(5))}, i.e. uniform in ±1/sqrt(in)); on META it draws nothing.
 */
public class Linear extends Module {
    private final long inFeatures;
    private final long outFeatures;
    private final boolean hasBias;

    public Linear(long inFeatures, long outFeatures, boolean bias, DType dtype) {
        this.inFeatures = inFeatures;
        this.outFeatures = outFeatures;
        this.hasBias = bias;
        double bound = 1.0 / Math.sqrt(Math.max(inFeatures, 1));
        RandomInit.uniform(registerParameter("weight", Tensor.empty(Shape.of(outFeatures, inFeatures), dtype)), bound);
        if (bias) RandomInit.uniform(registerParameter("bias", Tensor.empty(Shape.of(outFeatures), dtype)), bound);
    }

    public long inFeatures() {
        return inFeatures;
    }

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
}
