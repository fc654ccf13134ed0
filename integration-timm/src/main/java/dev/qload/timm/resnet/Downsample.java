package dev.qload.timm.resnet;

import dev.qload.core.kernel.Kernels;
import dev.qload.core.tensor.DType;
import dev.qload.timm.kernel.Convolution.FeatureMap;
import dev.qload.timm.nn.BatchNorm2d;
import dev.qload.timm.nn.Conv2d;
import dev.qload.timm.nn.TimmModule;

/**
 * resnet.downsample_conv, the projection shortcut: {@code nn.Sequential(conv 1×1 stride s, BN)} as
 * {@code downsample.0} / {@code downsample.1}, used when a block changes the stride or the width.
 */
final class Downsample extends TimmModule {
    Downsample(int in, int out, int stride, DType dtype) {
        registerChild("0", new Conv2d(in, out, 1, stride, 0, false, dtype));
        registerChild("1", new BatchNorm2d(out, dtype));
    }

    static boolean needed(int in, int out, int stride) {
        return stride != 1 || in != out;
    }

    FeatureMap forward(Kernels k, FeatureMap x) {
        FeatureMap y = child("0", Conv2d.class).forward(k, x);
        child("1", BatchNorm2d.class).forward(y);
        return y;
    }

    @Override
    public String typeName() {
        return "Sequential";
    }
}
