package dev.qload.quantizers.mxfp4;

import dev.qload.core.config.ModelConfig;
import dev.qload.core.error.ConfigException;
import dev.qload.core.error.ErrorId;
import dev.qload.core.error.Problem;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;
import java.util.regex.PatternSyntaxException;
import tools.jackson.databind.JsonNode;

/**
 * transformers' {@code Mxfp4Config} ({@code utils/quantization_config.py}): {@code modules_to_not_convert}
 * (null or a list of patterns) and {@code dequantize} (default false: keep the experts in MXFP4 and
 * run them as they are; true: dense experts, decoded while loading); and qload's own
 * {@code qload_quantize_linear} (default false), which quantizes every Linear as well.
 *
 * <p>A pattern keeps a module dense as transformers' {@code should_convert_module} decides: the
 * pattern, read as a regular expression, matches at the start of the module's path
 * ({@code re.match}; gpt-oss ships {@code "model.layers.*.self_attn"}, where {@code .*} spans the
 * layer index), or the path ends with it ({@code "lm_head"}).
 */
record Mxfp4Config(List<String> modulesToNotConvert, boolean dequantize, boolean quantizeLinear, List<Pattern> patterns) {
    /** qload's extension: MXFP4 for every Linear too ({@link Mxfp4Linear}); transformers has no such field. */
    static final String QUANTIZE_LINEAR = "qload_quantize_linear";


    static Mxfp4Config from(ModelConfig c) {
        JsonNode skip = c.json().get("modules_to_not_convert");
        List<String> names = null;
        if (skip != null && !skip.isNull()) {
            if (!skip.isArray()) throw invalid(c, ErrorId.CONFIG_WRONG_TYPE, "'modules_to_not_convert' must be a list of module patterns");
            names = new ArrayList<>();
            for (JsonNode n : skip) names.add(n.asString());
        }
        List<Pattern> patterns = new ArrayList<>();
        if (names != null) {
            for (String n : names) {
                try {
                    patterns.add(Pattern.compile(n));
                } catch (PatternSyntaxException e) {
                    throw invalid(c, ErrorId.CONFIG_INVALID, "modules_to_not_convert entry '" + n + "' is not a valid pattern: " + e.getDescription());
                }
            }
        }
        return new Mxfp4Config(names == null ? null : List.copyOf(names), c.boolValue("dequantize", false), c.boolValue(QUANTIZE_LINEAR, false),
                List.copyOf(patterns));
    }

    private static ConfigException invalid(ModelConfig c, ErrorId id, String message) {
        return new ConfigException(Problem.inFile(id, message, c.source(), null, -1));
    }

    /** Whether the module at {@code path} stays as it is. */
    boolean skips(String path) {
        for (int i = 0; i < patterns.size(); i++) {
            if (patterns.get(i).matcher(path).lookingAt() || path.endsWith(modulesToNotConvert.get(i))) return true;
        }
        return false;
    }

    /** {@code Mxfp4Config.to_dict()}: what a saved checkpoint's config.json holds. */
    Map<String, Object> toDict() {
        Map<String, Object> d = new LinkedHashMap<>();
        d.put("dequantize", false);
        d.put("modules_to_not_convert", modulesToNotConvert);
        if (quantizeLinear) d.put(QUANTIZE_LINEAR, true);
        d.put("quant_method", Mxfp4Quantizer.NAME);
        return d;
    }
}
