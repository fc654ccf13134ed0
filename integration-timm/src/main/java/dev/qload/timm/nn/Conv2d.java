package dev.qload.timm.nn;

import dev.qload.core.kernel.Kernels;
import dev.qload.core.nn.RandomInit;
import dev.qload.core.tensor.DType;
import dev.qload.core.tensor.Shape;
import dev.qload.core.tensor.Tensor;
import dev.qload.timm.kernel.Convolution;
import dev.qload.timm.kernel.Convolution.FeatureMap;

/** {@code nn.Conv2d} (square kernel, groups 1): {@code weight [out, in, k, k]}, optional {@code bias [out]}. */
public final class Conv2d extends TimmModule {
    private final int stride;
    private final int padding;
    private final boolean hasBias;

    public Conv2d(int in, int out, int kernel, int stride, int padding, boolean bias, DType dtype) {
        this.stride = stride;
        this.padding = padding;
        this.hasBias = bias;
        // nn.Conv2d.reset_parameters: kaiming_uniform_(a=√5), i.e. uniform in ±1/√fan_in
        double bound = 1.0 / Math.sqrt((double) in * kernel * kernel);
        RandomInit.uniform(registerParameter("weight", Tensor.empty(Shape.of(out, in, kernel, kernel), dtype)), bound);
        if (bias) RandomInit.uniform(registerParameter("bias", Tensor.empty(Shape.of(out), dtype)), bound);
    }

    public FeatureMap forward(Kernels k, FeatureMap x) {
        return Convolution.conv2d(k, x, slot("weight").get(), hasBias ? floats("bias") : null, stride, padding);
    }

    @Override
    public String typeName() {
        return "Conv2d";
    }
}
