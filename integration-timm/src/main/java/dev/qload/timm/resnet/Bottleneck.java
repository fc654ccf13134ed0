package dev.qload.timm.resnet;

import dev.qload.core.tensor.DType;
import dev.qload.timm.nn.BatchNorm2d;
import dev.qload.timm.nn.Conv2d;

/**
 * resnet.Bottleneck (expansion 4; base_width 64, cardinality 1, so width = planes): 1×1 conv →
 * BN → ReLU → 3×3 conv carrying the stride ("ResNet v1.5") → BN → ReLU → 1×1 conv to 4·planes →
 * BN, plus the shortcut, then ReLU.
 */
final class Bottleneck extends ResidualBlock {
    static final int EXPANSION = 4;

    Bottleneck(int inplanes, int planes, int stride, DType dtype) {
        super(3);
        int out = planes * EXPANSION;
        registerChild("conv1", new Conv2d(inplanes, planes, 1, 1, 0, false, dtype));
        registerChild("bn1", new BatchNorm2d(planes, dtype));
        registerChild("conv2", new Conv2d(planes, planes, 3, stride, 1, false, dtype));
        registerChild("bn2", new BatchNorm2d(planes, dtype));
        registerChild("conv3", new Conv2d(planes, out, 1, 1, 0, false, dtype));
        registerChild("bn3", new BatchNorm2d(out, dtype));
        if (Downsample.needed(inplanes, out, stride)) registerChild("downsample", new Downsample(inplanes, out, stride, dtype));
    }

    @Override
    public String typeName() {
        return "Bottleneck";
    }
}
