package dev.qload.models.llama;

import dev.qload.core.config.ModelConfig;
import dev.qload.core.error.ConfigException;
import dev.qload.core.error.ErrorId;
import dev.qload.core.error.Problem;
import java.util.Optional;

/**
 * A model's RoPE settings, read the way transformers reads them: {@code rope_theta} plus
 * {@code rope_scaling} (v4 configs; the type under {@code rope_type} or the legacy {@code type}),
 * or v5's {@code rope_parameters} holding both. Defaults are those of
 * {@code modeling_rope_utils.py} (yarn: beta_fast 32, beta_slow 1, truncate true).
 */
public record RopeParameters(String type, double theta, int dim, int maxPositionEmbeddings, double factor,
                             double lowFreqFactor, double highFreqFactor, int originalMaxPositionEmbeddings,
                             double betaFast, double betaSlow, Double mscale, Double mscaleAllDim, Double attentionFactor,
                             boolean truncate) {

    public static RopeParameters from(ModelConfig config, int headDim) {
        Optional<ModelConfig> scaling = config.object("rope_parameters").or(() -> config.object("rope_scaling"));
        double theta = scaling.filter(s -> s.has("rope_theta")).map(s -> s.doubleValue("rope_theta"))
                .orElseGet(() -> config.doubleValue("rope_theta", 10000.0));
        int dim = (int) (headDim * config.doubleValue("partial_rotary_factor", 1.0));
        int maxPos = config.intValue("max_position_embeddings", 2048);
        if (scaling.isEmpty()) return new RopeParameters("default", theta, dim, maxPos, 1, 1, 4, maxPos, 32, 1, null, null, null, true);
        ModelConfig s = scaling.get();
        String type = s.optionalString("rope_type").or(() -> s.optionalString("type")).orElse("default");
        RopeParameters p = new RopeParameters(type, theta, dim, maxPos,
                s.doubleValue("factor", 1.0), s.doubleValue("low_freq_factor", 1.0), s.doubleValue("high_freq_factor", 4.0),
                s.intValue("original_max_position_embeddings", maxPos),
                s.doubleValue("beta_fast", 32.0), s.doubleValue("beta_slow", 1.0),
                s.has("mscale") ? s.doubleValue("mscale") : null, s.has("mscale_all_dim") ? s.doubleValue("mscale_all_dim") : null,
                s.has("attention_factor") ? s.doubleValue("attention_factor") : null, s.boolValue("truncate", true));
        switch (type) {
            case "default", "linear", "dynamic", "llama3", "yarn" -> { }
            default -> throw new ConfigException(Problem.inFile(ErrorId.CONFIG_INVALID, "rope type '" + type
                    + "' is not supported; supported: default, linear, dynamic, llama3, yarn", config.source(), null, -1));
        }
        if (!type.equals("default") && !s.has("factor")) {
            throw new ConfigException(Problem.inFile(ErrorId.CONFIG_MISSING_KEY, "rope type '" + type + "' needs 'factor'", config.source(), null, -1));
        }
        return p;
    }
}
