package dev.qload.timm.resnet;

import dev.qload.core.kernel.Kernels;
import dev.qload.timm.kernel.Convolution.FeatureMap;
import dev.qload.timm.nn.BatchNorm2d;
import dev.qload.timm.nn.Conv2d;
import dev.qload.timm.nn.TimmModule;

/**
 * The forward pass timm's ResNet blocks share: {@code conv1 → bn1 → ReLU → … → conv_n → bn_n},
 * plus the shortcut (the input, or {@code downsample} when the block registered one), then ReLU.
 * {@link BasicBlock} has two convolutions, {@link Bottleneck} three.
 */
abstract class ResidualBlock extends TimmModule {
    private final int convolutions;

    ResidualBlock(int convolutions) {
        this.convolutions = convolutions;
    }

    final FeatureMap forward(Kernels k, FeatureMap x) {
        Downsample downsample = child("downsample", Downsample.class);
        FeatureMap shortcut = downsample == null ? x : downsample.forward(k, x);
        FeatureMap y = x;
        for (int i = 1; i <= convolutions; i++) {
            y = child("conv" + i, Conv2d.class).forward(k, y);
            child("bn" + i, BatchNorm2d.class).forward(y);
            if (i < convolutions) ResNet.relu(y.values());
        }
        k.add(shortcut.values(), 0, y.values(), 0, y.values().length);
        ResNet.relu(y.values());
        return y;
    }
}
