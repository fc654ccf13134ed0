package dev.qload.quantizers.bnb;

import dev.qload.core.config.ModelConfig;
import dev.qload.core.error.ConfigException;
import dev.qload.core.error.ErrorId;
import dev.qload.core.error.Problem;
import dev.qload.core.tensor.DType;
import java.util.ArrayList;
import java.util.List;
import tools.jackson.databind.JsonNode;

/**
 * transformers' {@code BitsAndBytesConfig}, same field names and defaults
 * ({@code utils/quantization_config.py}; spec/FORMATS.md §2.4): {@code load_in_4bit} /
 * {@code load_in_8bit}, {@code bnb_4bit_quant_type} (default "fp4"), {@code bnb_4bit_use_double_quant}
 * (false), {@code bnb_4bit_compute_dtype}, {@code bnb_4bit_quant_storage} ("uint8"),
 * {@code llm_int8_threshold} (6.0), {@code llm_int8_skip_modules} (default: the output head).
 * qload adds {@code bnb_4bit_blocksize} (default 64, what transformers always uses).
 */
record BnbConfig(boolean fourBit, QuantType quantType, boolean doubleQuant, int blocksize, DType quantStorage, String computeDtype,
                 float int8Threshold, List<String> skipModules, boolean defaultSkip) {

    static BnbConfig from(ModelConfig c) {
        boolean four = c.boolValue("load_in_4bit", c.boolValue("_load_in_4bit", false));
        boolean eight = c.boolValue("load_in_8bit", c.boolValue("_load_in_8bit", false));
        if (four == eight) {
            throw new ConfigException(Problem.inFile(ErrorId.CONFIG_INVALID, "bitsandbytes quantization_config needs exactly one of load_in_4bit and load_in_8bit",
                    c.source(), null, -1));
        }
        String typeName = c.optionalString("bnb_4bit_quant_type").orElse("fp4");
        QuantType type = QuantType.parse(typeName);
        if (type == null) {
            throw new ConfigException(Problem.inFile(ErrorId.CONFIG_INVALID, "bnb_4bit_quant_type '" + typeName + "' is not nf4 or fp4", c.source(), null, -1));
        }
        int blocksize = c.intValue("bnb_4bit_blocksize", 64);
        if (!QuantState.BLOCKSIZES.contains(blocksize)) {
            throw new ConfigException(Problem.inFile(ErrorId.CONFIG_INVALID, "bnb_4bit_blocksize " + blocksize + " is not one of "
                    + new java.util.TreeSet<>(QuantState.BLOCKSIZES), c.source(), null, -1));
        }
        String storageName = c.optionalString("bnb_4bit_quant_storage").orElse("uint8");
        DType storage = switch (storageName) {
            case "uint8" -> DType.U8;
            case "bfloat16" -> DType.BF16;
            case "float16" -> DType.F16;
            case "float32" -> DType.F32;
            default -> throw new ConfigException(Problem.inFile(ErrorId.CONFIG_INVALID, "bnb_4bit_quant_storage '" + storageName
                    + "' is not one of uint8, bfloat16, float16, float32", c.source(), null, -1));
        };
        List<String> skip = new ArrayList<>();
        JsonNode s = c.json().get("llm_int8_skip_modules");
        boolean defaultSkip = s == null || s.isNull();
        if (defaultSkip) {
            skip.add("lm_head");
        } else if (s.isArray()) {
            for (JsonNode m : s) skip.add(m.asString());
        } else {
            throw new ConfigException(Problem.inFile(ErrorId.CONFIG_WRONG_TYPE, "'llm_int8_skip_modules' must be a list of module names", c.source(), null, -1));
        }
        return new BnbConfig(four, type, c.boolValue("bnb_4bit_use_double_quant", false), blocksize, storage,
                c.optionalString("bnb_4bit_compute_dtype").orElse("float32"), (float) c.doubleValue("llm_int8_threshold", 6.0),
                List.copyOf(skip), defaultSkip);
    }

    /** {@code BitsAndBytesConfig.to_dict()}: what a saved checkpoint's config.json holds. */
    java.util.Map<String, Object> toDict() {
        java.util.Map<String, Object> d = new java.util.LinkedHashMap<>();
        d.put("_load_in_4bit", fourBit);
        d.put("_load_in_8bit", !fourBit);
        d.put("bnb_4bit_compute_dtype", computeDtype);
        d.put("bnb_4bit_quant_storage", switch (quantStorage) {
            case BF16 -> "bfloat16";
            case F16 -> "float16";
            case F32 -> "float32";
            default -> "uint8";
        });
        d.put("bnb_4bit_quant_type", quantType.id);
        d.put("bnb_4bit_use_double_quant", doubleQuant);
        if (blocksize != 64) d.put("bnb_4bit_blocksize", blocksize); // qload's extension; transformers always uses 64
        d.put("llm_int8_enable_fp32_cpu_offload", false);
        d.put("llm_int8_has_fp16_weight", false);
        d.put("llm_int8_skip_modules", defaultSkip ? null : skipModules);
        d.put("llm_int8_threshold", (double) int8Threshold);
        d.put("load_in_4bit", fourBit);
        d.put("load_in_8bit", !fourBit);
        d.put("quant_method", "bitsandbytes");
        return d;
    }

    /**
     * Whether the module at {@code path} stays dense: named in the skip list as a whole path, as its
     * last components, or as one component ("lm_head", "mlp.down_proj", "gate").
     */
    boolean skips(String path) {
        for (String m : skipModules) {
            if (path.equals(m) || path.endsWith("." + m) || path.startsWith(m + ".") || path.contains("." + m + ".")) return true;
        }
        return false;
    }
}
