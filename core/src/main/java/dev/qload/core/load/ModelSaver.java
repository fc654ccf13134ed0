package dev.qload.core.load;

import dev.qload.core.checkpoint.CheckpointWriter;
import dev.qload.core.config.Json;
import dev.qload.core.spi.Quantizer;
import dev.qload.core.tensor.Tensor;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import tools.jackson.databind.SerializationFeature;
import tools.jackson.databind.node.ObjectNode;

/**
 * Writes a loaded model back as an HF checkpoint directory: weights (sharded by size, with the
 * index) and a config.json that is the original with {@code quantization_config} set from the
 * quantizer, or removed when the model is dense. As transformers' {@code save_pretrained} does,
 * a tensor tied to one already written is left out (the config's {@code tie_word_embeddings}
 * restores it).
 */
public final class ModelSaver {
    private ModelSaver() {}

    /** As loaded: in the quantizer's layout with its {@code quantization_config}, or dense if the model is. */
    public static List<Path> save(LoadedModel model, Path directory, long maxShardBytes) {
        return save(model, model.quantizer().orElse(null), directory, maxShardBytes);
    }

    /** Dense (after {@code Quantizer.dequantize}): the module tree's own state dict, no {@code quantization_config}. */
    public static List<Path> saveDense(LoadedModel model, Path directory, long maxShardBytes) {
        return save(model, null, directory, maxShardBytes);
    }

    /**
     * In {@code quantizer}'s layout with its {@code quantization_config}: for a model quantized
     * after loading (a {@link dev.qload.core.spi.CalibratedQuantizer}), or dense when it is null.
     */
    public static List<Path> save(LoadedModel model, Quantizer quantizer, Path directory, long maxShardBytes) {
        Map<String, Tensor> state = quantizer != null ? quantizer.checkpointState(model.root()) : model.root().stateDict();
        Map<String, Tensor> unique = new LinkedHashMap<>();
        Set<Tensor> seen = Collections.newSetFromMap(new IdentityHashMap<>());
        for (var e : state.entrySet()) if (seen.add(e.getValue())) unique.put(e.getKey(), e.getValue());
        ObjectNode config = model.config().json().deepCopy();
        config.remove("quantization_config");
        Map<String, Object> quantization = quantizer == null ? null : quantizer.quantizationConfig();
        if (quantization != null) config.set("quantization_config", Json.STRICT.valueToTree(quantization));
        List<Path> written = new java.util.ArrayList<>(CheckpointWriter.save(directory, unique, maxShardBytes));
        written.add(writeJson(directory.resolve("config.json"), config));
        if (quantizer != null) {
            for (var e : quantizer.sidecarJsonFiles().entrySet()) {
                written.add(writeJson(directory.resolve(e.getKey()), Json.STRICT.valueToTree(e.getValue())));
            }
        }
        return written;
    }

    /** transformers writes config.json with sorted keys and a 2-space indent; sidecar files the same way. */
    private static Path writeJson(Path file, ObjectNode content) {
        try {
            String json = Json.STRICT.rebuild().enable(SerializationFeature.INDENT_OUTPUT)
                    .enable(SerializationFeature.ORDER_MAP_ENTRIES_BY_KEYS).build().writeValueAsString(sorted(content));
            Files.writeString(file, json + "\n");
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write " + file, e);
        }
        return file;
    }

    private static ObjectNode sorted(ObjectNode node) {
        ObjectNode out = Json.STRICT.createObjectNode();
        new java.util.TreeMap<>(node.properties().stream().collect(java.util.stream.Collectors.toMap(Map.Entry::getKey, Map.Entry::getValue)))
                .forEach((k, v) -> out.set(k, v instanceof ObjectNode o ? sorted(o) : v));
        return out;
    }
}
