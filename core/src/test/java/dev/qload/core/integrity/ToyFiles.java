package dev.qload.core.integrity;

import dev.qload.core.load.Loader;
import dev.qload.core.load.ToyArchitecture;
import dev.qload.core.plugin.Plugins;
import dev.qload.core.safetensors.SafetensorsWriter;
import dev.qload.core.tensor.DType;
import dev.qload.core.tensor.Shape;
import dev.qload.core.tensor.Tensor;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** Toy checkpoints for ToyArchitecture (config.json + safetensors, single or two shards) and ways to damage them. */
final class ToyFiles {
    private ToyFiles() {}

    static Loader loader() {
        return new Loader(new Plugins(List.of(), List.of(new ToyArchitecture())));
    }

    static Map<String, Tensor> tensors(int hidden, int intermediate, int table) {
        Map<String, Tensor> t = new LinkedHashMap<>();
        t.put("encoder.proj.weight", floats(Shape.of(intermediate, hidden), 1));
        t.put("encoder.proj.bias", floats(Shape.of(intermediate), 2));
        t.put("encoder.norm.weight", floats(Shape.of(intermediate), 3));
        MemorySegment ids = MemorySegment.ofArray(new byte[table * 8]);
        for (int i = 0; i < table; i++) ids.setAtIndex(ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN), i, 2L * i);
        t.put("encoder.rope.position_ids", Tensor.wrap(Shape.of(table), DType.I64, ids));
        return t;
    }

    private static Tensor floats(Shape shape, int seed) {
        float[] v = new float[(int) shape.elementCount()];
        for (int i = 0; i < v.length; i++) v[i] = seed * 100 + i / 8f - 3f;
        return Tensor.ofFloats(shape, v);
    }

    private static String config(int hidden, int intermediate, int table) {
        return "{\"architectures\": [\"" + ToyArchitecture.ARCHITECTURE + "\"], \"model_type\": \"toy\", \"hidden_size\": " + hidden
                + ", \"intermediate_size\": " + intermediate + ", \"table_size\": " + table + ", \"table_scale\": 0.5}";
    }

    /** config.json + model.safetensors. */
    static Path single(Path dir) {
        return single(dir, 4, 6, 5);
    }

    static Path single(Path dir, int hidden, int intermediate, int table) {
        writeString(dir.resolve("config.json"), config(hidden, intermediate, table));
        SafetensorsWriter.write(dir.resolve("model.safetensors"), tensors(hidden, intermediate, table));
        return dir;
    }

    /** config.json, model.safetensors.index.json and two shards. */
    static Path sharded(Path dir) {
        Map<String, Tensor> all = tensors(4, 6, 5);
        Map<String, Tensor> first = new LinkedHashMap<>(), second = new LinkedHashMap<>();
        StringBuilder map = new StringBuilder();
        int i = 0;
        for (var e : all.entrySet()) {
            String shard = i++ < 2 ? "model-00001-of-00002.safetensors" : "model-00002-of-00002.safetensors";
            (shard.contains("00001-") ? first : second).put(e.getKey(), e.getValue());
            map.append(map.isEmpty() ? "" : ", ").append('"').append(e.getKey()).append("\": \"").append(shard).append('"');
        }
        writeString(dir.resolve("config.json"), config(4, 6, 5));
        SafetensorsWriter.write(dir.resolve("model-00001-of-00002.safetensors"), first);
        SafetensorsWriter.write(dir.resolve("model-00002-of-00002.safetensors"), second);
        writeString(dir.resolve("model.safetensors.index.json"), "{\"metadata\": {}, \"weight_map\": {" + map + "}}");
        return dir;
    }

    /** Flips every bit of the file's last byte: tensor data (safetensors allows no trailing bytes), so the header stays valid. */
    static void flipLastByte(Path file) {
        try {
            byte[] b = Files.readAllBytes(file);
            b[b.length - 1] ^= (byte) 0xFF;
            Files.write(file, b, StandardOpenOption.TRUNCATE_EXISTING);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** An independent SHA-256 of the file: the JDK's one-shot digest over its bytes read from disk. */
    static String sha256(Path file) {
        try {
            return HexFormat.of().formatHex(java.security.MessageDigest.getInstance("SHA-256").digest(Files.readAllBytes(file)));
        } catch (Exception e) {
            throw new AssertionError(e);
        }
    }

    static void writeString(Path file, String text) {
        try {
            Files.createDirectories(file.getParent());
            Files.writeString(file, text);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
