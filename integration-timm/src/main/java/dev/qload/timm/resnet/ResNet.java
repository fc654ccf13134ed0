package dev.qload.timm.resnet;

import dev.qload.core.kernel.Kernels;
import dev.qload.core.nn.Linear;
import dev.qload.core.nn.ModuleList;
import dev.qload.core.tensor.DType;
import dev.qload.timm.TimmConfig;
import dev.qload.timm.kernel.Convolution;
import dev.qload.timm.kernel.Convolution.FeatureMap;
import dev.qload.timm.kernel.Pooling;
import dev.qload.timm.nn.BatchNorm2d;
import dev.qload.timm.nn.Conv2d;
import dev.qload.timm.nn.ClassifierModel;

/**
 * resnet.ResNet with the default stem: 7×7/2 conv, BN, ReLU, 3×3/2 max pool; stage i has
 * {@code layers[i]} blocks of {@code channels[i]} planes (BasicBlock for resnet18/34, Bottleneck,
 * 4·planes wide, for resnet26/50/101/152), the first one strided by 2 from the second stage on;
 * global average pool and {@code fc}. Activations stay
 * channels-last throughout, so every convolution is one matrix product.
 */
public final class ResNet extends ClassifierModel {
    private final int stages;

    /** resnet.py: resnet18/34 build BasicBlock, the deeper ones Bottleneck. */
    private static final java.util.Set<String> BASIC = java.util.Set.of("resnet18", "resnet34");

    public ResNet(TimmConfig c, int imageSize, DType dtype) {
        super(imageSize, c.numClasses());
        if (!c.stringArg("global_pool").equals("avg")) throw c.unsupported("global_pool", "only 'avg' is implemented for ResNet");
        int[] layers = c.intListArg("layers");
        int[] channels = c.intListArg("channels");
        if (channels.length != layers.length) throw c.unsupported("channels", "it needs one width per stage (" + layers.length + ")");
        this.stages = layers.length;
        int stem = c.intArg("stem_width");
        registerChild("conv1", new Conv2d(3, stem, 7, 2, 3, false, dtype));
        registerChild("bn1", new BatchNorm2d(stem, dtype));
        boolean basic = BASIC.contains(c.architecture());
        int inplanes = stem;
        for (int i = 0; i < stages; i++) {
            ModuleList<ResidualBlock> stage = registerChild("layer" + (i + 1), new ModuleList<>());
            for (int b = 0; b < layers[i]; b++) {
                int stride = b == 0 && i > 0 ? 2 : 1;
                stage.add(basic ? new BasicBlock(inplanes, channels[i], stride, dtype) : new Bottleneck(inplanes, channels[i], stride, dtype));
                inplanes = basic ? channels[i] : channels[i] * Bottleneck.EXPANSION;
            }
        }
        registerChild("fc", new Linear(inplanes, c.numClasses(), true, dtype));
    }

    static void relu(float[] x) {
        for (int i = 0; i < x.length; i++) if (x[i] < 0) x[i] = 0; // NaN stays NaN, as torch.relu
    }

    @Override
    @SuppressWarnings("unchecked")
    public float[] classify(Kernels k, float[] pixels, int offset) {
        FeatureMap x = child("conv1", Conv2d.class).forward(k, Convolution.channelsLast(pixels, offset, 3, imageSize(), imageSize()));
        child("bn1", BatchNorm2d.class).forward(x);
        relu(x.values());
        x = Pooling.maxPool2d(x, 3, 2, 1);
        for (int i = 0; i < stages; i++) {
            ModuleList<ResidualBlock> stage = child("layer" + (i + 1), ModuleList.class);
            for (int b = 0; b < stage.size(); b++) x = stage.get(b).forward(k, x);
        }
        float[] pooled = Pooling.meanRows(x.values(), 0, x.height() * x.width(), x.channels());
        float[] logits = new float[numClasses()];
        linear("fc").forward(k, pooled, 1, logits);
        return logits;
    }

    @Override
    public String typeName() {
        return "ResNet";
    }
}
