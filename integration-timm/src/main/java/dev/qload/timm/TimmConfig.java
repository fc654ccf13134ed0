package dev.qload.timm;

import dev.qload.core.config.ModelConfig;
import dev.qload.core.config.Spelling;
import dev.qload.core.error.ConfigException;
import dev.qload.core.error.ErrorId;
import dev.qload.core.error.Problem;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import tools.jackson.databind.JsonNode;

/**
 * A timm model's configuration, from either layout of {@code config.json}:
 * <ul>
 * <li>the Hub's timm layout ({@code timm/models/_hub.py} save_config / load_model_config_from_hf):
 *     {@code architecture}, {@code num_classes}, {@code pretrained_cfg}, optional {@code model_args}
 *     and {@code label_names};</li>
 * <li>transformers' {@code TimmWrapperConfig}: the same fields plus {@code model_type: timm_wrapper},
 *     {@code num_labels} and {@code id2label}.</li>
 * </ul>
 * As {@code timm.create_model} does, the architecture's registered arguments come first and
 * {@code model_args} override them; an argument qload does not implement is refused by name.
 */
public final class TimmConfig {
    private final String architecture;
    private final ModelFamily family;
    private final Map<String, Object> args;
    private final int numClasses;
    private final PretrainedConfig pretrained;
    private final List<String> labels;
    private final Path source;

    private TimmConfig(String architecture, ModelFamily family, Map<String, Object> args, int numClasses,
                       PretrainedConfig pretrained, List<String> labels, Path source) {
        this.architecture = architecture;
        this.family = family;
        this.args = args;
        this.numClasses = numClasses;
        this.pretrained = pretrained;
        this.labels = labels;
        this.source = source;
    }

    public static TimmConfig from(ModelConfig config) {
        String architecture = config.string("architecture");
        ArchitectureDefaults.Resolved resolved = ArchitectureDefaults.of(architecture, config.source());
        Map<String, Object> args = new LinkedHashMap<>(resolved.args());
        JsonNode modelArgs = config.json().get("model_args");
        if (modelArgs != null && !modelArgs.isNull()) {
            if (!modelArgs.isObject()) throw invalid(config.source(), "'model_args' must be an object");
            for (String key : modelArgs.propertyNames()) {
                if (key.equals("num_classes")) continue;
                if (!args.containsKey(key)) {
                    throw invalid(config.source(), "model_args '" + key + "' is not supported for " + resolved.family()
                            + " ('" + architecture + "')" + Spelling.hint(key, args.keySet()) + "; supported: " + args.keySet());
                }
                args.put(key, plain(modelArgs.get(key)));
            }
        }
        PretrainedConfig pretrained = PretrainedConfig.from(config);
        int numClasses = modelArgs != null && modelArgs.has("num_classes") ? modelArgs.get("num_classes").asInt()
                : config.has("num_classes") ? config.intValue("num_classes")
                : pretrained.numClasses() > 0 ? pretrained.numClasses()
                : config.intValue("num_labels", 1000);
        if (numClasses < 1) {
            throw new ConfigException(Problem.inFile(ErrorId.NOT_SUPPORTED, "num_classes " + numClasses + ": a backbone without a classifier"
                    + " head (timm's nn.Identity head) is not built; qload runs timm image classifiers", config.source(), null, -1));
        }
        return new TimmConfig(architecture, resolved.family(), args, numClasses, pretrained, labels(config, numClasses), config.source());
    }

    /** {@code label_names} (timm), else {@code id2label} (transformers), else none. */
    private static List<String> labels(ModelConfig config, int numClasses) {
        JsonNode names = config.json().get("label_names");
        if (names == null || names.isNull()) names = config.object("pretrained_cfg").map(p -> p.json().get("label_names")).orElse(null);
        List<String> out = new ArrayList<>();
        if (names != null && names.isArray()) {
            for (JsonNode n : names) out.add(n.asString());
        } else if (config.has("id2label") && config.json().get("id2label").isObject()) {
            JsonNode id2label = config.json().get("id2label");
            for (int i = 0; i < numClasses; i++) {
                JsonNode n = id2label.get(Integer.toString(i));
                out.add(n == null ? "LABEL_" + i : n.asString());
            }
        }
        return out.size() == numClasses ? List.copyOf(out) : List.of();
    }

    private static Object plain(JsonNode n) {
        if (n == null || n.isNull()) return null;
        if (n.isBoolean()) return n.asBoolean();
        if (n.isIntegralNumber()) return n.asInt();
        if (n.isNumber()) return n.asDouble();
        if (n.isString()) return n.asString();
        if (n.isArray()) {
            List<Object> out = new ArrayList<>();
            for (JsonNode e : n) out.add(plain(e));
            return out;
        }
        return n.toString();
    }

    private static ConfigException invalid(Path source, String message) {
        return new ConfigException(Problem.inFile(ErrorId.CONFIG_INVALID, message, source, null, -1));
    }

    private ConfigException wrongType(String key, String expected) {
        return new ConfigException(Problem.inFile(ErrorId.CONFIG_WRONG_TYPE, "model_args '" + key + "' must be " + expected
                + ", found " + args.get(key), source, null, -1));
    }

    public String architecture() {
        return architecture;
    }

    public ModelFamily family() {
        return family;
    }

    public int numClasses() {
        return numClasses;
    }

    public PretrainedConfig pretrained() {
        return pretrained;
    }

    /** Class names by index, or empty when the config has none. */
    public List<String> labels() {
        return labels;
    }

    public int intArg(String key) {
        if (args.get(key) instanceof Integer i && i >= 0) return i;
        throw wrongType(key, "a non-negative integer");
    }

    public double doubleArg(String key) {
        if (args.get(key) instanceof Number n) return n.doubleValue();
        throw wrongType(key, "a number");
    }

    /** A number, or NaN for null (timm's {@code init_values=None}). */
    public double optionalDoubleArg(String key) {
        return args.get(key) == null ? Double.NaN : doubleArg(key);
    }

    public boolean boolArg(String key) {
        if (args.get(key) instanceof Boolean b) return b;
        throw wrongType(key, "true or false");
    }

    /** A boolean, or {@code otherwise} for null (timm's {@code fc_norm=None}: decided by the pool). */
    public boolean optionalBoolArg(String key, boolean otherwise) {
        return args.get(key) == null ? otherwise : boolArg(key);
    }

    public String stringArg(String key) {
        if (args.get(key) instanceof String s) return s;
        throw wrongType(key, "a string");
    }

    public int[] intListArg(String key) {
        if (args.get(key) instanceof List<?> list) {
            int[] out = new int[list.size()];
            for (int i = 0; i < out.length; i++) {
                if (!(list.get(i) instanceof Integer v) || v <= 0) throw wrongType(key, "a list of positive integers");
                out[i] = v;
            }
            return out;
        }
        throw wrongType(key, "a list of positive integers");
    }

    /** A refusal naming the argument, for values qload's implementation of the family cannot honour. */
    public ConfigException unsupported(String key, String why) {
        return new ConfigException(Problem.inFile(ErrorId.NOT_SUPPORTED, "model_args '" + key + "' = " + args.get(key)
                + " is not supported for " + architecture + ": " + why, source, null, -1));
    }
}
