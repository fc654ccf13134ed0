package dev.qload.core.checkpoint;

import dev.qload.core.error.ErrorId;
import dev.qload.core.error.PluginException;
import dev.qload.core.error.Problem;
import dev.qload.core.safetensors.TensorInfo;
import dev.qload.core.spi.CheckpointView;
import dev.qload.core.tensor.Tensor;
import java.util.Optional;
import java.util.Set;

/** {@link CheckpointView} over an open checkpoint: headers and small tensors straight from the mapping. */
final class MappedCheckpointView implements CheckpointView {
    private final Checkpoint checkpoint;

    MappedCheckpointView(Checkpoint checkpoint) {
        this.checkpoint = checkpoint;
    }

    @Override
    public Set<String> names() {
        return checkpoint.tensors().keySet();
    }

    @Override
    public Optional<TensorInfo> info(String name) {
        return Optional.ofNullable(checkpoint.tensors().get(name)).map(CheckpointTensor::info);
    }

    @Override
    public byte[] metadataBytes(String name) {
        CheckpointTensor t = checkpoint.tensors().get(name);
        if (t == null) throw new IllegalArgumentException("no tensor '" + name + "' in " + checkpoint.directory());
        if (t.info().byteLength() > MAX_METADATA_BYTES) {
            throw new PluginException(Problem.inFile(ErrorId.PLUGIN_CONTRACT, "a quantizer asked for " + t.info().byteLength()
                    + " bytes of metadata; the limit is " + MAX_METADATA_BYTES, t.file().path(), name, t.fileOffset()));
        }
        return t.view().data().toArray(java.lang.foreign.ValueLayout.JAVA_BYTE);
    }

    @Override
    public Tensor mapped(String name) {
        CheckpointTensor t = checkpoint.tensors().get(name);
        if (t == null) throw new IllegalArgumentException("no tensor '" + name + "' in " + checkpoint.directory());
        return t.view();
    }
}
