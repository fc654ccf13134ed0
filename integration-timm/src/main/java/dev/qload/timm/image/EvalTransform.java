package dev.qload.timm.image;

import dev.qload.core.error.ConfigException;
import dev.qload.core.error.ErrorId;
import dev.qload.core.error.Problem;
import dev.qload.timm.PretrainedConfig;

/**
 * timm's evaluation preprocessing (timm/data/transforms_factory.py {@code transforms_imagenet_eval})
 * from a model's {@code pretrained_cfg}, on a square input size:
 * <ol>
 * <li>{@code scale_size = floor(size / crop_pct)};</li>
 * <li>crop_mode {@code center}: torchvision {@code Resize(scale_size)}, the shorter edge becomes
 *     scale_size and the longer {@code int(scale_size · long / short)}; crop_mode {@code squash}:
 *     both edges become scale_size — resampled by Pillow's filter named by {@code interpolation};</li>
 * <li>torchvision {@code CenterCrop(size)}: offsets {@code int(round((H − size) / 2))}, Python's
 *     round (half to even);</li>
 * <li>{@code ToTensor} (÷ 255 in F32) and {@code Normalize(mean, std)}: {@code (x − mean) / std}.</li>
 * </ol>
 * The result is the model's {@code pixel_values}, {@code [3, size, size]}.
 */
public final class EvalTransform {
    private EvalTransform() {}

    public static float[] apply(RgbImage image, PretrainedConfig cfg) {
        if (cfg.height() != cfg.width() || cfg.channels() != 3) {
            throw unsupported("input_size " + cfg.channels() + "×" + cfg.height() + "×" + cfg.width() + " (only square RGB inputs)");
        }
        int size = cfg.height();
        int scaleSize = (int) Math.floor(size / cfg.cropPct());
        int w = image.width(), h = image.height();
        int newW, newH;
        switch (cfg.cropMode()) {
            case "center" -> {
                int shortEdge = Math.min(w, h), longEdge = Math.max(w, h);
                int newLong = (int) ((double) scaleSize * longEdge / shortEdge); // torchvision: int(size * long / short)
                newW = w <= h ? scaleSize : newLong;
                newH = w <= h ? newLong : scaleSize;
            }
            case "squash" -> {
                newW = scaleSize;
                newH = scaleSize;
            }
            default -> throw unsupported("crop_mode '" + cfg.cropMode() + "' (center and squash are implemented)");
        }
        int[] resized = PilResample.resize(image.pixels(), w, h, 3, newW, newH, filter(cfg.interpolation()));
        if (newW < size || newH < size) throw unsupported("a " + newW + "×" + newH + " resize smaller than the " + size + " crop");
        int top = roundHalfEven((newH - size) / 2.0), left = roundHalfEven((newW - size) / 2.0);
        float[] out = new float[3 * size * size];
        for (int c = 0; c < 3; c++) {
            for (int y = 0; y < size; y++) {
                for (int x = 0; x < size; x++) {
                    float v = resized[((top + y) * newW + left + x) * 3 + c] / 255f;
                    out[(c * size + y) * size + x] = (v - cfg.mean()[c]) / cfg.std()[c];
                }
            }
        }
        return out;
    }

    static PilResample.Filter filter(String interpolation) {
        return switch (interpolation) {
            case "bilinear" -> PilResample.Filter.BILINEAR;
            case "bicubic" -> PilResample.Filter.BICUBIC;
            case "lanczos" -> PilResample.Filter.LANCZOS;
            case "box" -> PilResample.Filter.BOX;
            case "hamming" -> PilResample.Filter.HAMMING;
            default -> throw unsupported("interpolation '" + interpolation + "' (bilinear, bicubic, lanczos, box, hamming are implemented)");
        };
    }

    private static int roundHalfEven(double v) {
        return (int) Math.rint(v);
    }

    private static ConfigException unsupported(String what) {
        return new ConfigException(Problem.of(ErrorId.NOT_SUPPORTED, "timm's eval preprocessing of this pretrained_cfg is not implemented: " + what));
    }
}
