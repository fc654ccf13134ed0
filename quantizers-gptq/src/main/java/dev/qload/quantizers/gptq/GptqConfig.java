package dev.qload.quantizers.gptq;

import dev.qload.core.config.ModelConfig;
import dev.qload.core.error.ConfigException;
import dev.qload.core.error.ErrorId;
import dev.qload.core.error.Problem;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import tools.jackson.databind.JsonNode;

/**
 * transformers' {@code GPTQConfig} as stored in config.json (spec/FORMATS.md §3.2): {@code bits}
 * (2, 3, 4 or 8), {@code group_size} (-1: one group over the whole input), {@code desc_act},
 * {@code sym}, {@code checkpoint_format} ("gptq" = v1, zero-points stored minus one; "gptq_v2")
 * and the optional {@code modules_in_block_to_quantize} (lists of module names inside a block); and
 * for quantizing, {@code damp_percent} (dampening relative to mean(diag H), AutoGPTQ's default
 * 0.01), {@code static_groups} and {@code true_sequential}.
 */
record GptqConfig(int bits, int groupSize, boolean descAct, boolean sym, boolean v2, List<List<String>> modulesInBlockToQuantize,
                  double dampPercent, boolean staticGroups, boolean trueSequential) {
    /** AutoGPTQ's {@code BaseQuantizeConfig.damp_percent} default. */
    static final double DEFAULT_DAMP_PERCENT = 0.01;

    /** A load-side config: quantization-only fields at AutoGPTQ's defaults. */
    GptqConfig(int bits, int groupSize, boolean descAct, boolean sym, boolean v2, List<List<String>> modulesInBlockToQuantize) {
        this(bits, groupSize, descAct, sym, v2, modulesInBlockToQuantize, DEFAULT_DAMP_PERCENT, false, true);
    }

    static GptqConfig from(ModelConfig c) {
        int bits = c.intValue("bits", 4);
        if (bits != 2 && bits != 3 && bits != 4 && bits != 8) {
            throw invalid(c, "GPTQ bits " + bits + " is not one of 2, 3, 4, 8");
        }
        int groupSize = c.intValue("group_size", 128);
        if (groupSize != -1 && groupSize <= 0) {
            throw invalid(c, "GPTQ group_size " + groupSize + " must be -1 or positive");
        }
        String format = c.optionalString("checkpoint_format").or(() -> c.optionalString("format")).orElse("gptq");
        boolean v2 = switch (format) {
            case "gptq" -> false;
            case "gptq_v2" -> true;
            default -> throw new ConfigException(Problem.inFile(ErrorId.UNSUPPORTED_QUANT_FORMAT,
                    "GPTQ checkpoint_format '" + format + "' is not supported; only \"gptq\" (v1) and \"gptq_v2\" are", c.source(), null, -1));
        };
        List<List<String>> modules = null;
        JsonNode m = c.json().get("modules_in_block_to_quantize");
        if (m != null && !m.isNull()) {
            if (!m.isArray()) throw wrongType(c);
            modules = new ArrayList<>();
            for (JsonNode inner : m) {
                if (!inner.isArray()) throw wrongType(c);
                List<String> names = new ArrayList<>();
                for (JsonNode n : inner) {
                    if (!n.isString()) throw wrongType(c);
                    names.add(n.asString());
                }
                modules.add(List.copyOf(names));
            }
            modules = List.copyOf(modules);
        }
        double damp = c.doubleValue("damp_percent", DEFAULT_DAMP_PERCENT);
        if (!(damp > 0 && damp < 1)) throw invalid(c, "GPTQ damp_percent " + damp + " must be in (0, 1)");
        return new GptqConfig(bits, groupSize, c.boolValue("desc_act", false), c.boolValue("sym", true), v2, modules, damp,
                c.boolValue("static_groups", false), c.boolValue("true_sequential", true));
    }

    /**
     * The {@code quantization_config} a saved checkpoint carries: the fields of transformers'
     * {@code GPTQConfig.to_dict()} that describe the stored tensors and how they were made
     * (utils/quantization_config.py), so transformers/optimum, AutoGPTQ and GPTQModel load it.
     */
    Map<String, Object> toJson() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("quant_method", GptqQuantizer.NAME);
        m.put("bits", bits);
        m.put("group_size", groupSize);
        m.put("desc_act", descAct);
        m.put("sym", sym);
        m.put("damp_percent", dampPercent);
        m.put("static_groups", staticGroups);
        m.put("true_sequential", trueSequential);
        m.put("checkpoint_format", v2 ? "gptq_v2" : "gptq");
        m.put("format", v2 ? "gptq_v2" : "gptq");
        m.put("modules_in_block_to_quantize", modulesInBlockToQuantize);
        return m;
    }

    private static ConfigException invalid(ModelConfig c, String message) {
        return new ConfigException(Problem.inFile(ErrorId.CONFIG_INVALID, message, c.source(), null, -1));
    }

    private static ConfigException wrongType(ModelConfig c) {
        return new ConfigException(Problem.inFile(ErrorId.CONFIG_WRONG_TYPE,
                "'modules_in_block_to_quantize' must be a list of lists of module names", c.source(), null, -1));
    }

    GptqConfig withV2() {
        return new GptqConfig(bits, groupSize, descAct, sym, true, modulesInBlockToQuantize, dampPercent, staticGroups, trueSequential);
    }

    int maxq() {
        return (1 << bits) - 1;
    }

    /** Number of groups along the input dimension. */
    long groups(long in) {
        return groupSize == -1 ? 1 : (in + groupSize - 1) / groupSize;
    }

    /**
     * The zero-point a reader uses for a stored field, as gptq_ref.effective_zeros: v1 ("gptq")
     * {@code (field + 1) & maxq} for 2/4/8 bits and {@code field + 1} for 3 bits; v2 the field.
     */
    int effectiveZero(int field) {
        if (v2) return field;
        int z = field + 1;
        return bits == 3 ? z : z & maxq();
    }
}
