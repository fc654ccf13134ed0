package dev.qload.timm;

import dev.qload.core.module.Module;
import dev.qload.core.tensor.DType;
import dev.qload.timm.eva.EvaBuilder;
import dev.qload.timm.nn.RebuiltBuffers;
import dev.qload.timm.resnet.ResNet;
import dev.qload.timm.swin.SwinTransformer;
import dev.qload.timm.vit.VitBuilder;

/** {@code timm.create_model(architecture, **model_args)}: the module tree of a {@link TimmConfig}. */
public final class TimmModels {
    private TimmModels() {}

    /** The model with every rebuilt buffer declared; the architecture provider's build. */
    public static Module build(TimmConfig config, DType dtype) {
        return build(config, dtype, RebuiltBuffers.ALL);
    }

    /** The model with the buffer declarations of {@code declared} (tests leave some out on purpose). */
    public static Module build(TimmConfig config, DType dtype, RebuiltBuffers declared) {
        return switch (config.family()) {
            case VISION_TRANSFORMER -> VitBuilder.build(config, dtype);
            case SWIN_TRANSFORMER -> new SwinTransformer(config, dtype, declared);
            case EVA -> EvaBuilder.build(config, dtype, declared);
            case RESNET -> new ResNet(config, config.pretrained().height(), dtype);
        };
    }
}
