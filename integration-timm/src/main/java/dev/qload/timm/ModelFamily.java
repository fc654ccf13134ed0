package dev.qload.timm;

/** The timm model classes qload builds, each with the {@code model_args} its constructor takes. */
public enum ModelFamily {
    /** timm/models/vision_transformer.py VisionTransformer (vit_*, deit3_*). */
    VISION_TRANSFORMER,
    /** timm/models/swin_transformer.py SwinTransformer (swin_*, v1). */
    SWIN_TRANSFORMER,
    /** timm/models/eva.py Eva (eva02_*): rotary position tables. */
    EVA,
    /** timm/models/resnet.py ResNet: BasicBlock (resnet18, resnet34) or Bottleneck (resnet26, 50, 101, 152). */
    RESNET
}
