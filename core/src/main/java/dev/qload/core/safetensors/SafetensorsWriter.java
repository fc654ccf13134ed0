package dev.qload.core.safetensors;

import dev.qload.core.tensor.Tensor;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import tools.jackson.core.JsonGenerator;
import tools.jackson.core.ObjectWriteContext;
import tools.jackson.core.json.JsonFactory;

/**
 * Writes safetensors files the reference reader accepts, following the reference writer
 * ({@code safetensors/src/tensor.rs :: prepare}; spec/FORMATS.md §1.1): tensors sorted by
 * descending dtype rank then name, {@code __metadata__} first, the header padded with spaces to a
 * multiple of 8 so the data starts aligned. The file appears atomically: it is written to a
 * temporary name beside the target and moved into place, so a crash never leaves half a file.
 */
public final class SafetensorsWriter {
    private static final JsonFactory JSON = JsonFactory.builder().build();

    /** The metadata transformers requires ({@code format ∈ {pt, tf, flax, mlx}}). */
    public static final Map<String, String> PT_METADATA = Map.of("format", "pt");

    private SafetensorsWriter() {}

    public static void write(Path target, Map<String, Tensor> tensors) {
        write(target, tensors, PT_METADATA);
    }

    public static void write(Path target, Map<String, Tensor> tensors, Map<String, String> metadata) {
        List<Map.Entry<String, Tensor>> ordered = new ArrayList<>(tensors.entrySet());
        ordered.sort(Comparator.<Map.Entry<String, Tensor>>comparingInt(e -> -e.getValue().dtype().ordinal())
                .thenComparing(Map.Entry::getKey));
        byte[] header = header(ordered, metadata);
        Path tmp = target.resolveSibling(target.getFileName() + ".tmp");
        try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.CREATE, StandardOpenOption.TRUNCATE_EXISTING, StandardOpenOption.WRITE)) {
            ByteBuffer prefix = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(0, header.length);
            writeFully(ch, prefix);
            writeFully(ch, ByteBuffer.wrap(header));
            for (var e : ordered) writeFully(ch, e.getValue().data().asByteBuffer());
            ch.force(false);
        } catch (IOException e) {
            deleteQuietly(tmp);
            throw new UncheckedIOException("cannot write " + target, e);
        } catch (RuntimeException e) {
            deleteQuietly(tmp);
            throw e;
        }
        try {
            Files.move(tmp, target, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        } catch (IOException e) {
            deleteQuietly(tmp);
            throw new UncheckedIOException("cannot move " + tmp + " to " + target, e);
        }
    }

    static byte[] header(List<Map.Entry<String, Tensor>> ordered, Map<String, String> metadata) {
        var out = new java.io.ByteArrayOutputStream();
        try (JsonGenerator g = JSON.createGenerator(ObjectWriteContext.empty(), out)) {
            g.writeStartObject();
            if (metadata != null && !metadata.isEmpty()) {
                g.writeName("__metadata__");
                g.writeStartObject();
                for (var m : new java.util.TreeMap<>(metadata).entrySet()) g.writeStringProperty(m.getKey(), m.getValue());
                g.writeEndObject();
            }
            long offset = 0;
            for (var e : ordered) {
                Tensor t = e.getValue();
                if (t.isMeta()) throw new IllegalArgumentException("tensor '" + e.getKey() + "' is on META: nothing to write");
                long length = t.byteSize();
                g.writeName(e.getKey());
                g.writeStartObject();
                g.writeStringProperty("dtype", t.dtype().safetensorsName());
                g.writeName("shape");
                g.writeArray(t.shape().dims(), 0, t.shape().rank());
                g.writeName("data_offsets");
                g.writeArray(new long[] {offset, offset + length}, 0, 2);
                g.writeEndObject();
                offset += length;
            }
            g.writeEndObject();
        }
        byte[] json = out.toByteArray();
        int padded = (json.length + 7) / 8 * 8;
        byte[] header = java.util.Arrays.copyOf(json, padded);
        java.util.Arrays.fill(header, json.length, padded, (byte) ' ');
        return header;
    }

    private static void writeFully(FileChannel ch, ByteBuffer buf) throws IOException {
        while (buf.hasRemaining()) ch.write(buf);
    }

    private static void deleteQuietly(Path p) {
        try {
            Files.deleteIfExists(p);
        } catch (IOException ignored) {
            // best effort: the original error is the one worth reporting
        }
    }
}
