package dev.qload.core.checkpoint;

import dev.qload.core.safetensors.SafetensorsFile;
import dev.qload.core.safetensors.TensorInfo;
import dev.qload.core.tensor.Tensor;

/** A tensor of a checkpoint and the file that holds it. */
public record CheckpointTensor(SafetensorsFile file, TensorInfo info) {
    public String name() {
        return info.name();
    }

    public long fileOffset() {
        return file.fileOffset(info);
    }

    /** A zero-copy view of the mapped bytes. */
    public Tensor view() {
        return file.tensor(info);
    }
}
