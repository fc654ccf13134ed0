package dev.qload.timm.resnet;

import dev.qload.core.kernel.Kernels;
import dev.qload.core.tensor.DType;
import dev.qload.timm.kernel.Convolution.FeatureMap;
import dev.qload.timm.nn.BatchNorm2d;
import dev.qload.timm.nn.Conv2d;
import dev.qload.timm.nn.TimmModule;

/**
 * resnet.BasicBlock: 3×3 conv (stride) → BN → ReLU → 3×3 conv → BN, plus the shortcut (identity,
 * or resnet.downsample_conv: a 1×1 strided conv and BN as {@code downsample.0} / {@code downsample.1}
 * when the stride or the width changes), then ReLU.
 */
final class BasicBlock extends TimmModule {
    BasicBlock(int inplanes, int planes, int stride, DType dtype) {
        registerChild("conv1", new Conv2d(inplanes, planes, 3, stride, 1, false, dtype));
        registerChild("bn1", new BatchNorm2d(planes, dtype));
        registerChild("conv2", new Conv2d(planes, planes, 3, 1, 1, false, dtype));
        registerChild("bn2", new BatchNorm2d(planes, dtype));
        if (stride != 1 || inplanes != planes) {
            TimmModule downsample = registerChild("downsample", new Downsample());
            downsample.registerChild("0", new Conv2d(inplanes, planes, 1, stride, 0, false, dtype));
            downsample.registerChild("1", new BatchNorm2d(planes, dtype));
        }
    }

    FeatureMap forward(Kernels k, FeatureMap x) {
        FeatureMap shortcut = x;
        Downsample downsample = child("downsample", Downsample.class);
        if (downsample != null) {
            shortcut = downsample.forward(k, x);
        }
        FeatureMap y = child("conv1", Conv2d.class).forward(k, x);
        child("bn1", BatchNorm2d.class).forward(y);
        ResNet.relu(y.values());
        y = child("conv2", Conv2d.class).forward(k, y);
        child("bn2", BatchNorm2d.class).forward(y);
        k.add(shortcut.values(), 0, y.values(), 0, y.values().length);
        ResNet.relu(y.values());
        return y;
    }

    @Override
    public String typeName() {
        return "BasicBlock";
    }

    /** {@code nn.Sequential(conv, norm)} of the projection shortcut. */
    static final class Downsample extends TimmModule {
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
}
