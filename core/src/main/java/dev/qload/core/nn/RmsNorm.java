package dev.qload.core.nn;

import dev.qload.core.module.Module;
import dev.qload.core.tensor.DType;
import dev.qload.core.tensor.Shape;
import dev.qload.core.tensor.Tensor;

/** RMSNorm as in {@code LlamaRMSNorm}: a {@code weight} of ones, and {@code eps}. */
public class RmsNorm extends Module {
    private final double eps;

    public RmsNorm(long dim, double eps, DType dtype) {
        this.eps = eps;
        RandomInit.fill(registerParameter("weight", Tensor.empty(Shape.of(dim), dtype)), 1f);
    }

    public double eps() {
        return eps;
    }

    public Tensor weight() {
        return slot("weight").get();
    }
}
