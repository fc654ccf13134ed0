package dev.qload.timm;

import dev.qload.core.config.ModelConfig;
import dev.qload.core.error.ConfigException;
import dev.qload.core.error.ErrorId;
import dev.qload.core.error.Problem;
import tools.jackson.databind.JsonNode;

/**
 * The evaluation preprocessing of {@code pretrained_cfg}, with timm's defaults for absent fields
 * (timm/data/config.py resolve_data_config: input 3×224×224, bicubic, crop_pct 0.875 =
 * DEFAULT_CROP_PCT, crop_mode center, ImageNet mean and std).
 */
public record PretrainedConfig(int channels, int height, int width, String interpolation, double cropPct, String cropMode,
                               float[] mean, float[] std, int numClasses) {
    /** timm.data.constants IMAGENET_DEFAULT_MEAN / IMAGENET_DEFAULT_STD. */
    static final float[] IMAGENET_MEAN = {0.485f, 0.456f, 0.406f};
    static final float[] IMAGENET_STD = {0.229f, 0.224f, 0.225f};

    static PretrainedConfig from(ModelConfig config) {
        ModelConfig p = config.object("pretrained_cfg").orElse(null);
        if (p == null) return new PretrainedConfig(3, 224, 224, "bicubic", 0.875, "center", IMAGENET_MEAN, IMAGENET_STD, 0);
        int[] input = p.has("input_size") ? ints(p, "input_size", 3) : new int[] {3, 224, 224};
        return new PretrainedConfig(input[0], input[1], input[2], p.optionalString("interpolation").orElse("bicubic"),
                p.doubleValue("crop_pct", 0.875), p.optionalString("crop_mode").orElse("center"),
                p.has("mean") ? floats(p, "mean", input[0]) : IMAGENET_MEAN, p.has("std") ? floats(p, "std", input[0]) : IMAGENET_STD,
                p.intValue("num_classes", 0));
    }

    private static int[] ints(ModelConfig p, String key, int n) {
        JsonNode a = p.json().get(key);
        if (!a.isArray() || a.size() != n) throw wrong(p, key, n);
        int[] out = new int[n];
        for (int i = 0; i < n; i++) {
            if (!a.get(i).isIntegralNumber()) throw wrong(p, key, n);
            out[i] = a.get(i).asInt();
        }
        return out;
    }

    private static float[] floats(ModelConfig p, String key, int n) {
        JsonNode a = p.json().get(key);
        if (!a.isArray() || a.size() != n) throw wrong(p, key, n);
        float[] out = new float[n];
        for (int i = 0; i < n; i++) {
            if (!a.get(i).isNumber()) throw wrong(p, key, n);
            out[i] = (float) a.get(i).asDouble();
        }
        return out;
    }

    private static ConfigException wrong(ModelConfig p, String key, int n) {
        return new ConfigException(Problem.inFile(ErrorId.CONFIG_WRONG_TYPE, "pretrained_cfg '" + key + "' must be a list of "
                + n + " numbers, found " + p.json().get(key), p.source(), null, -1));
    }
}
