package dev.qload.examples.fp8;

import dev.qload.core.config.ModelConfig;
import dev.qload.core.config.Spelling;
import dev.qload.core.error.ConfigException;
import dev.qload.core.error.ErrorId;
import dev.qload.core.error.Problem;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;
import java.util.regex.PatternSyntaxException;
import tools.jackson.databind.JsonNode;

/**
 * transformers' {@code FineGrainedFP8Config} ({@code utils/quantization_config.py}; spec/FORMATS.md
 * §5), same field names, defaults and checks:
 *
 * <ul>
 *   <li>{@code activation_scheme}: lower-cased, must be {@code "dynamic"} (the default);
 *   <li>{@code weight_block_size}: two positive ints {@code [rows, cols]} of a scale tile, default
 *       {@code [128, 128]};
 *   <li>{@code modules_to_not_convert}: optional list; {@code lm_head} is always added, as
 *       {@code replace_with_fp8_linear} does ({@code ignored_layers} is accepted for it, as newer
 *       transformers releases do).
 * </ul>
 *
 * DeepSeek-V3 and Qwen3-FP8 configs also carry {@code "fmt": "e4m3"}; transformers ignores it, qload
 * checks it, since any other value would mean the weights are not E4M3. Other unknown keys are
 * ignored like transformers' {@code **kwargs}, unless they look like a misspelling of a known one.
 */
record Fp8Config(int blockRows, int blockCols, List<String> modulesToNotConvert) {
    static final String DYNAMIC = "dynamic";
    static final int DEFAULT_BLOCK = 128;
    private static final Set<String> KNOWN = Set.of("quant_method", "activation_scheme", "weight_block_size", "modules_to_not_convert",
            "ignored_layers", "fmt", "scale_fmt", "dequantize");

    Fp8Config {
        if (blockRows <= 0 || blockCols <= 0) throw new IllegalArgumentException("block sizes must be positive");
        modulesToNotConvert = modulesToNotConvert == null ? null : List.copyOf(modulesToNotConvert);
    }

    static Fp8Config from(ModelConfig c) {
        for (String key : c.json().propertyNames()) {
            if (KNOWN.contains(key)) continue;
            Spelling.closest(key, KNOWN).ifPresent(near -> {
                throw invalid(c, "unknown fp8 quantization_config key '" + key + "' (did you mean '" + near + "'?)");
            });
        }
        String scheme = c.optionalString("activation_scheme").orElse(DYNAMIC).toLowerCase(Locale.ROOT);
        if (!scheme.equals(DYNAMIC)) {
            throw invalid(c, "activation_scheme '" + scheme + "' is not supported; only \"dynamic\" is (FineGrainedFP8Config.post_init)");
        }
        String fmt = c.optionalString("fmt").orElse("e4m3");
        if (!fmt.equals("e4m3")) throw invalid(c, "fmt '" + fmt + "' is not supported; the weights must be \"e4m3\" (float8_e4m3fn)");
        String scaleFmt = c.optionalString("scale_fmt").orElse("float");
        if (!scaleFmt.equals("float")) throw invalid(c, "scale_fmt '" + scaleFmt + "' is not supported; only \"float\" (F32 weight_scale_inv) is");

        int rows = DEFAULT_BLOCK, cols = DEFAULT_BLOCK;
        JsonNode block = c.json().get("weight_block_size");
        if (block != null) {
            if (block.isNull()) throw invalid(c, "weight_block_size is null (per-tensor FP8); only block-wise scales are supported");
            if (!block.isArray() || block.size() != 2 || !block.get(0).isIntegralNumber() || !block.get(1).isIntegralNumber()) {
                throw wrongType(c, "weight_block_size must be a list of two integers, got " + block);
            }
            long r = block.get(0).asLong(), k = block.get(1).asLong();
            if (r <= 0 || k <= 0 || r > Integer.MAX_VALUE || k > Integer.MAX_VALUE) {
                throw invalid(c, "weight_block_size must be two positive integers, got " + block);
            }
            rows = (int) r;
            cols = (int) k;
        }

        JsonNode skip = c.json().get("modules_to_not_convert");
        if (skip == null || skip.isNull()) skip = c.json().get("ignored_layers");
        List<String> modules = null;
        if (skip != null && !skip.isNull()) {
            if (!skip.isArray()) throw wrongType(c, "modules_to_not_convert must be a list of module names, got " + skip);
            modules = new ArrayList<>();
            for (JsonNode m : skip) {
                if (!m.isString()) throw wrongType(c, "modules_to_not_convert must hold strings, got " + m);
                modules.add(m.asString());
            }
        }
        return new Fp8Config(rows, cols, modules);
    }

    private static ConfigException invalid(ModelConfig c, String message) {
        return new ConfigException(Problem.inFile(ErrorId.CONFIG_INVALID, message, c.source(), null, -1));
    }

    private static ConfigException wrongType(ModelConfig c, String message) {
        return new ConfigException(Problem.inFile(ErrorId.CONFIG_WRONG_TYPE, message, c.source(), null, -1));
    }

    /**
     * Whether the Linear at {@code path} stays dense: {@code lm_head}, or any entry of
     * {@code modules_to_not_convert} that either transformers generation accepts:
     *
     * <ul>
     *   <li>{@code _replace_with_fp8_linear} (@0095b97) replaces digit runs of the parameter name
     *       by {@code *} and skips it when the entry is a substring: "lm_head", "mlp.gate",
     *       "layers.*.mlp" (and "gate", which also matches "gate_proj", as it does there);
     *   <li>{@code quantizers_utils.should_convert_module} (v5) skips a module whose path the entry
     *       matches as a regular expression from the start, or ends with: "model.layers.0.mlp",
     *       "model.layers.[01].self_attn", "down_proj".
     * </ul>
     */
    boolean skips(String path) {
        String starred = (path + ".weight").replaceAll("\\d+", "*");
        if (starred.contains("lm_head")) return true;
        if (modulesToNotConvert == null) return false;
        for (String m : modulesToNotConvert) {
            if (starred.contains(m) || path.endsWith(m) || matchesFromStart(m, path)) return true;
        }
        return false;
    }

    private static boolean matchesFromStart(String regex, String path) {
        try {
            return Pattern.compile(regex).matcher(path).lookingAt();
        } catch (PatternSyntaxException e) {
            return path.startsWith(regex);
        }
    }

    /**
     * {@code FineGrainedFP8Config.to_dict()}: its attributes, as a saved checkpoint's config.json
     * holds them ({@code modules_to_not_convert} null when it was not given).
     */
    Map<String, Object> toDict() {
        Map<String, Object> d = new LinkedHashMap<>();
        d.put("activation_scheme", DYNAMIC);
        d.put("modules_to_not_convert", modulesToNotConvert);
        d.put("quant_method", Fp8Quantizer.NAME);
        d.put("weight_block_size", List.of(blockRows, blockCols));
        return d;
    }
}
