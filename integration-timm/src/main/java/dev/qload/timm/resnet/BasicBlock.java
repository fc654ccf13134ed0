package dev.qload.timm.resnet;

import dev.qload.core.tensor.DType;
import dev.qload.timm.nn.BatchNorm2d;
import dev.qload.timm.nn.Conv2d;

/**
 * resnet.BasicBlock (expansion 1): 3×3 conv (stride) → BN → ReLU → 3×3 conv → BN, plus the
 * shortcut ({@link Downsample} when the stride or the width changes), then ReLU.
 */
final class BasicBlock extends ResidualBlock {
    BasicBlock(int inplanes, int planes, int stride, DType dtype) {
        super(2);
        registerChild("conv1", new Conv2d(inplanes, planes, 3, stride, 1, false, dtype));
        registerChild("bn1", new BatchNorm2d(planes, dtype));
        registerChild("conv2", new Conv2d(planes, planes, 3, 1, 1, false, dtype));
        registerChild("bn2", new BatchNorm2d(planes, dtype));
        if (Downsample.needed(inplanes, planes, stride)) registerChild("downsample", new Downsample(inplanes, planes, stride, dtype));
    }

    @Override
    public String typeName() {
        return "BasicBlock";
    }
}
