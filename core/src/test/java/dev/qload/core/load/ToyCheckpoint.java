package dev.qload.core.load;

import dev.qload.core.safetensors.SafetensorsWriter;
import dev.qload.core.tensor.DType;
import dev.qload.core.tensor.Shape;
import dev.qload.core.tensor.Tensor;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.foreign.Arena;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

/** Writes toy checkpoints (config.json + model.safetensors) with deterministic values. */
final class ToyCheckpoint {
    static final int HIDDEN = 4, INTERMEDIATE = 6, TABLE = 5, VOCAB = 3;
    static final double SCALE = 0.5;

    final Map<String, Tensor> tensors = new LinkedHashMap<>();
    String config = config(HIDDEN, INTERMEDIATE, TABLE, "");

    static String config(int hidden, int intermediate, int table, String extra) {
        return "{\"architectures\": [\"" + ToyArchitecture.ARCHITECTURE + "\"], \"model_type\": \"toy\", \"hidden_size\": " + hidden
                + ", \"intermediate_size\": " + intermediate + ", \"table_size\": " + table + ", \"table_scale\": " + SCALE + extra + "}";
    }

    /** A complete checkpoint of the default toy model. */
    static ToyCheckpoint standard() {
        return sized(HIDDEN, INTERMEDIATE, TABLE);
    }

    static ToyCheckpoint sized(int hidden, int intermediate, int table) {
        ToyCheckpoint c = new ToyCheckpoint();
        c.config = config(hidden, intermediate, table, "");
        c.put("encoder.proj.weight", floats(Shape.of(intermediate, hidden), 1));
        c.put("encoder.proj.bias", floats(Shape.of(intermediate), 2));
        c.put("encoder.norm.weight", floats(Shape.of(intermediate), 3));
        c.put("encoder.rope.position_ids", longs(table, 2));
        return c;
    }

    /** Adds embed / lm_head to the config (and the named tensors, if asked). */
    ToyCheckpoint withVocab(boolean tie, boolean embed, boolean head) {
        config = config(HIDDEN, INTERMEDIATE, TABLE, ", \"vocab_size\": " + VOCAB + ", \"tie_word_embeddings\": " + tie);
        if (embed) put("embed.weight", floats(Shape.of(VOCAB, HIDDEN), 4));
        if (head) put("lm_head.weight", floats(Shape.of(VOCAB, HIDDEN), 5));
        return this;
    }

    ToyCheckpoint put(String name, Tensor t) {
        tensors.put(name, t);
        return this;
    }

    ToyCheckpoint remove(String name) {
        tensors.remove(name);
        return this;
    }

    Path write(Path dir) {
        try {
            Files.createDirectories(dir);
            Files.writeString(dir.resolve("config.json"), config);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        SafetensorsWriter.write(dir.resolve("model.safetensors"), tensors);
        return dir;
    }

    /** Deterministic, distinct, exactly representable values: seed*100 + i/8 - 3. */
    static float value(int seed, long i) {
        return seed * 100 + i / 8f - 3f;
    }

    static Tensor floats(Shape shape, int seed) {
        float[] v = new float[(int) shape.elementCount()];
        for (int i = 0; i < v.length; i++) v[i] = value(seed, i);
        return Tensor.ofFloats(shape, v);
    }

    static float[] expected(long count, int seed) {
        float[] v = new float[(int) count];
        for (int i = 0; i < v.length; i++) v[i] = value(seed, i);
        return v;
    }

    static Tensor longs(int n, long factor) {
        Tensor t = Tensor.allocate(Shape.of(n), DType.I64, Arena.ofAuto());
        for (int i = 0; i < n; i++) t.data().setAtIndex(ToyArchitecture.I64, i, i * factor);
        return t;
    }

    static long[] readLongs(Tensor t) {
        long[] out = new long[(int) t.elementCount()];
        for (int i = 0; i < out.length; i++) out[i] = t.data().getAtIndex(ToyArchitecture.I64, i);
        return out;
    }

    static short[] readShorts(Tensor t) {
        ValueLayout.OfShort s = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
        short[] out = new short[(int) t.elementCount()];
        for (int i = 0; i < out.length; i++) out[i] = t.data().getAtIndex(s, i);
        return out;
    }
}
