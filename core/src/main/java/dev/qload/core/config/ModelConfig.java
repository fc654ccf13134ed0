package dev.qload.core.config;

import dev.qload.core.error.ConfigException;
import dev.qload.core.error.ErrorId;
import dev.qload.core.error.Problem;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import tools.jackson.core.JacksonException;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.node.ObjectNode;

/**
 * A model's {@code config.json}, with typed accessors that fail clearly: a missing key names the
 * file and suggests the closest key present, a value of the wrong type says what was expected and
 * what was found. Field names are exactly transformers' ({@code hidden_size},
 * {@code num_key_value_heads}, {@code rope_scaling}, ...).
 */
public final class ModelConfig {
    private final Path source;
    private final ObjectNode root;

    private ModelConfig(Path source, ObjectNode root) {
        this.source = source;
        this.root = root;
    }

    public static ModelConfig read(Path file) {
        byte[] bytes;
        try {
            bytes = Files.readAllBytes(file);
        } catch (IOException e) {
            throw new ConfigException(Problem.inFile(ErrorId.CONFIG_INVALID, "cannot read config: " + e.getMessage(), file, null, -1), e);
        }
        return parse(file, bytes);
    }

    public static ModelConfig parse(Path source, byte[] json) {
        JsonNode node;
        try {
            node = Json.STRICT.readTree(json);
        } catch (JacksonException e) {
            long at = e.getLocation() == null ? -1 : e.getLocation().getByteOffset();
            throw new ConfigException(Problem.inFile(ErrorId.CONFIG_INVALID, "not valid JSON: " + e.getOriginalMessage(), source, null, at), e);
        }
        if (!(node instanceof ObjectNode obj)) {
            throw new ConfigException(Problem.inFile(ErrorId.CONFIG_INVALID, "config must be a JSON object", source, null, 0));
        }
        return new ModelConfig(source, obj);
    }

    public static ModelConfig of(ObjectNode root) {
        return new ModelConfig(null, root);
    }

    public Path source() {
        return source;
    }

    public ObjectNode json() {
        return root;
    }

    public boolean has(String key) {
        JsonNode n = root.get(key);
        return n != null && !n.isNull();
    }

    public String modelType() {
        return optionalString("model_type").orElse("");
    }

    public List<String> architectures() {
        JsonNode n = root.get("architectures");
        if (n == null || n.isNull()) return List.of();
        if (!n.isArray()) throw wrongType("architectures", "a list of strings", n);
        List<String> out = new ArrayList<>();
        for (JsonNode a : n) {
            if (!a.isString()) throw wrongType("architectures", "a list of strings", n);
            out.add(a.asString());
        }
        return out;
    }

    public int intValue(String key) {
        return (int) checkedInt(key, require(key), Integer.MIN_VALUE, Integer.MAX_VALUE);
    }

    public int intValue(String key, int defaultValue) {
        return has(key) ? intValue(key) : defaultValue;
    }

    public long longValue(String key) {
        return checkedInt(key, require(key), Long.MIN_VALUE, Long.MAX_VALUE);
    }

    public double doubleValue(String key) {
        JsonNode n = require(key);
        if (!n.isNumber()) throw wrongType(key, "a number", n);
        return n.asDouble();
    }

    public double doubleValue(String key, double defaultValue) {
        return has(key) ? doubleValue(key) : defaultValue;
    }

    public boolean boolValue(String key, boolean defaultValue) {
        if (!has(key)) return defaultValue;
        JsonNode n = root.get(key);
        if (!n.isBoolean()) throw wrongType(key, "true or false", n);
        return n.asBoolean();
    }

    public String string(String key) {
        JsonNode n = require(key);
        if (!n.isString()) throw wrongType(key, "a string", n);
        return n.asString();
    }

    public Optional<String> optionalString(String key) {
        return has(key) ? Optional.of(string(key)) : Optional.empty();
    }

    /** A nested object such as {@code rope_scaling} or {@code quantization_config}, if present and not null. */
    public Optional<ModelConfig> object(String key) {
        if (!has(key)) return Optional.empty();
        JsonNode n = root.get(key);
        if (!(n instanceof ObjectNode obj)) throw wrongType(key, "an object", n);
        return Optional.of(new ModelConfig(source, obj));
    }

    private JsonNode require(String key) {
        JsonNode n = root.get(key);
        if (n == null || n.isNull()) {
            List<String> present = new ArrayList<>(root.propertyNames());
            throw new ConfigException(Problem.inFile(ErrorId.CONFIG_MISSING_KEY,
                    "required key '" + key + "' is missing" + Spelling.hint(key, present), source, null, -1));
        }
        return n;
    }

    private long checkedInt(String key, JsonNode n, long min, long max) {
        if (!n.isIntegralNumber() || !n.canConvertToLong()) throw wrongType(key, "an integer", n);
        long v = n.asLong();
        if (v < min || v > max) throw wrongType(key, "an integer in [" + min + ", " + max + "]", n);
        return v;
    }

    private ConfigException wrongType(String key, String expected, JsonNode found) {
        String shown = found.toString();
        if (shown.length() > 60) shown = shown.substring(0, 57) + "...";
        return new ConfigException(Problem.inFile(ErrorId.CONFIG_WRONG_TYPE,
                "'" + key + "' must be " + expected + ", found " + found.getNodeType().name().toLowerCase(java.util.Locale.ROOT) + " " + shown, source, null, -1));
    }

    @Override
    public String toString() {
        return root.toString();
    }
}
