package dev.qload.core.checkpoint;

import dev.qload.core.safetensors.SafetensorsWriter;
import dev.qload.core.tensor.Tensor;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * Saves a state dict the way transformers does ({@code huggingface_hub ::
 * split_state_dict_into_shards_factory}; spec/FORMATS.md §1.4): tensors in state-dict order,
 * greedily packed into shards of at most {@code maxShardBytes} (a larger tensor goes alone), named
 * {@code model-00001-of-00003.safetensors}, with an index whose {@code total_size} is the sum of
 * tensor bytes. A single shard is {@code model.safetensors} with no index.
 */
public final class CheckpointWriter {
    /** transformers' default {@code max_shard_size}. */
    public static final long DEFAULT_MAX_SHARD_BYTES = 5_000_000_000L;

    private CheckpointWriter() {}

    /** Writes the weight files and, when sharded, the index. Returns the files written. */
    public static List<Path> save(Path directory, Map<String, Tensor> stateDict, long maxShardBytes) {
        List<Map<String, Tensor>> shards = new ArrayList<>();
        Map<String, Tensor> current = new LinkedHashMap<>();
        long currentBytes = 0;
        for (var e : stateDict.entrySet()) {
            long size = e.getValue().byteSize();
            if (size > maxShardBytes) {
                // As huggingface_hub does: alone, in a shard of its own, appended now; the current
                // shard stays open for the tensors that follow.
                Map<String, Tensor> alone = new LinkedHashMap<>();
                alone.put(e.getKey(), e.getValue());
                shards.add(alone);
                continue;
            }
            if (currentBytes + size > maxShardBytes) {
                shards.add(current);
                current = new LinkedHashMap<>();
                currentBytes = 0;
            }
            current.put(e.getKey(), e.getValue());
            currentBytes += size;
        }
        if (!current.isEmpty() || shards.isEmpty()) shards.add(current);
        try {
            Files.createDirectories(directory);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        if (shards.size() == 1) {
            Path file = directory.resolve(Checkpoint.SINGLE_FILE);
            SafetensorsWriter.write(file, shards.getFirst());
            return List.of(file);
        }
        List<Path> written = new ArrayList<>();
        // Python's sort_keys orders str by code point; String.compareTo orders UTF-16 code units,
        // which differs once a supplementary character meets one in U+E000..U+FFFF.
        Map<String, String> weightMap = new TreeMap<>(CheckpointWriter::compareCodePoints);
        long totalSize = 0;
        for (int i = 0; i < shards.size(); i++) {
            String name = String.format("model-%05d-of-%05d.safetensors", i + 1, shards.size());
            SafetensorsWriter.write(directory.resolve(name), shards.get(i));
            written.add(directory.resolve(name));
            for (var e : shards.get(i).entrySet()) {
                weightMap.put(e.getKey(), name);
                totalSize += e.getValue().byteSize();
            }
        }
        Path index = directory.resolve(CheckpointIndex.FILE_NAME);
        try {
            Files.writeString(index, indexJson(totalSize, weightMap), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        written.add(index);
        return written;
    }

    /** {@code json.dumps(index, indent=2, sort_keys=True) + "\n"}, byte for byte. */
    static String indexJson(long totalSize, Map<String, String> sortedWeightMap) {
        StringBuilder sb = new StringBuilder("{\n  \"metadata\": {\n    \"total_size\": ").append(totalSize).append("\n  },\n  \"weight_map\": {");
        int i = 0;
        for (var e : sortedWeightMap.entrySet()) {
            sb.append(i++ == 0 ? "\n" : ",\n").append("    ").append(quote(e.getKey())).append(": ").append(quote(e.getValue()));
        }
        return sb.append(sortedWeightMap.isEmpty() ? "}\n}\n" : "\n  }\n}\n").toString();
    }

    private static int compareCodePoints(String a, String b) {
        int i = 0, j = 0;
        while (i < a.length() && j < b.length()) {
            int ca = a.codePointAt(i), cb = b.codePointAt(j);
            if (ca != cb) return Integer.compare(ca, cb);
            i += Character.charCount(ca);
            j += Character.charCount(cb);
        }
        return Boolean.compare(i < a.length(), j < b.length());
    }

    /** Python's {@code json.dumps} string form with {@code ensure_ascii=True}. */
    private static String quote(String s) {
        StringBuilder sb = new StringBuilder("\"");
        for (char c : s.toCharArray()) {
            switch (c) {
                case '"' -> sb.append("\\\"");
                case '\\' -> sb.append("\\\\");
                case '\n' -> sb.append("\\n");
                case '\r' -> sb.append("\\r");
                case '\t' -> sb.append("\\t");
                case '\b' -> sb.append("\\b");
                case '\f' -> sb.append("\\f");
                default -> {
                    if (c < 0x20 || c > 0x7e) sb.append(String.format("\\u%04x", (int) c));
                    else sb.append(c);
                }
            }
        }
        return sb.append('"').toString();
    }
}
