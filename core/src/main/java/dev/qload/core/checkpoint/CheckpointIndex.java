package dev.qload.core.checkpoint;

import dev.qload.core.config.Json;
import dev.qload.core.error.ErrorId;
import dev.qload.core.error.Problem;
import dev.qload.core.error.SafetensorsException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.TreeSet;
import tools.jackson.core.JacksonException;
import tools.jackson.databind.JsonNode;

/**
 * {@code model.safetensors.index.json}: {@code {"metadata": {...}, "weight_map": {tensor: shard}}}
 * (spec/FORMATS.md §1.4). {@code metadata} is optional and never relied on (DeepSeek writes
 * {@code {}}); shard names must stay inside the checkpoint directory.
 */
public record CheckpointIndex(Path file, Map<String, String> weightMap, Map<String, Object> metadata) {

    public static final String FILE_NAME = "model.safetensors.index.json";

    public static CheckpointIndex read(Path file) {
        JsonNode root;
        try {
            root = Json.STRICT.readTree(Files.readAllBytes(file));
        } catch (IOException e) {
            throw invalid(file, "cannot read: " + e.getMessage());
        } catch (JacksonException e) {
            throw invalid(file, "not valid JSON: " + e.getOriginalMessage());
        }
        if (root == null || !root.isObject()) throw invalid(file, "the index must be a JSON object");
        JsonNode map = root.get("weight_map");
        if (map == null || !map.isObject()) throw invalid(file, "'weight_map' must be an object of tensor name to shard file");
        Map<String, String> weightMap = new LinkedHashMap<>();
        Path dir = file.toAbsolutePath().getParent().normalize();
        for (var e : map.properties()) {
            if (!e.getValue().isString()) throw invalid(file, "shard of tensor '" + e.getKey() + "' is not a file name");
            String shard = e.getValue().asString();
            Path resolved = dir.resolve(shard).normalize();
            if (shard.isEmpty() || !resolved.getParent().equals(dir)) {
                throw new SafetensorsException(Problem.inFile(ErrorId.SHARD_OUTSIDE_CHECKPOINT,
                        "shard '" + shard + "' is not a file in the checkpoint directory", file, e.getKey(), -1));
            }
            weightMap.put(e.getKey(), shard);
        }
        Map<String, Object> metadata = new LinkedHashMap<>();
        JsonNode meta = root.get("metadata");
        if (meta != null && meta.isObject()) for (var e : meta.properties()) metadata.put(e.getKey(), e.getValue().toString());
        return new CheckpointIndex(file, weightMap, metadata);
    }

    /** Distinct shard names, sorted, as {@code get_checkpoint_shard_files} lists them. */
    public TreeSet<String> shards() {
        return new TreeSet<>(weightMap.values());
    }

    private static SafetensorsException invalid(Path file, String message) {
        return new SafetensorsException(Problem.inFile(ErrorId.INVALID_INDEX, message, file, null, -1));
    }
}
