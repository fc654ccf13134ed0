package dev.qload.tests;

import dev.qload.core.checkpoint.Checkpoint;
import dev.qload.core.safetensors.SafetensorsFile;
import dev.qload.core.safetensors.SafetensorsWriter;
import dev.qload.core.safetensors.TensorInfo;
import dev.qload.core.tensor.Tensor;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.Consumer;

/**
 * Hostile-input tests for plugin authors: a copy of a single-file checkpoint whose tensors were
 * edited (removed, replaced, reshaped) before being written again with qload's own writer.
 */
public final class CheckpointEdits {
    private CheckpointEdits() {}

    /**
     * Copies {@code source}'s config.json to {@code target} and writes its {@code model.safetensors}
     * again after {@code edit} has changed the tensors: heap copies, by name, in file order.
     */
    public static Path rewrite(Path source, Path target, Consumer<Map<String, Tensor>> edit) {
        Map<String, Tensor> tensors = new LinkedHashMap<>();
        Map<String, String> metadata;
        try (SafetensorsFile f = SafetensorsFile.open(source.resolve(Checkpoint.SINGLE_FILE))) {
            for (TensorInfo info : f.tensors().values()) tensors.put(info.name(), heapCopy(f.tensor(info)));
            metadata = f.metadata();
        }
        edit.accept(tensors);
        try {
            Files.createDirectories(target);
            Files.copy(source.resolve(Checkpoint.CONFIG), target.resolve(Checkpoint.CONFIG));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        SafetensorsWriter.write(target.resolve(Checkpoint.SINGLE_FILE), tensors, metadata.isEmpty() ? SafetensorsWriter.PT_METADATA : metadata);
        return target;
    }

    /** A copy of {@code t}'s bytes that no longer depends on any mapping. */
    public static Tensor heapCopy(Tensor t) {
        Tensor copy = Tensor.allocate(t.shape(), t.dtype(), Arena.ofAuto());
        MemorySegment.copy(t.data(), 0, copy.data(), 0, t.byteSize());
        return copy;
    }
}
