package dev.qload.core.spi;

import dev.qload.core.safetensors.TensorInfo;
import dev.qload.core.tensor.Tensor;
import java.util.Optional;
import java.util.Set;

/**
 * What a quantizer may see of the checkpoint while it replaces modules on META: names and header
 * entries of every tensor, and the bytes of small metadata tensors (bitsandbytes' quant-state JSON,
 * a {@code weight_format} scalar), so replacement modules can declare exact shapes before the plan.
 */
public interface CheckpointView {
    /** Small metadata tensors only: asking for more than this is a contract violation. */
    long MAX_METADATA_BYTES = 1 << 20;

    CheckpointView EMPTY = new CheckpointView() {
        @Override
        public Set<String> names() {
            return Set.of();
        }

        @Override
        public Optional<TensorInfo> info(String name) {
            return Optional.empty();
        }

        @Override
        public byte[] metadataBytes(String name) {
            throw new IllegalArgumentException("no tensor '" + name + "'");
        }
    };

    Set<String> names();

    Optional<TensorInfo> info(String name);

    /** A copy of a tensor's bytes, at most {@link #MAX_METADATA_BYTES}. */
    byte[] metadataBytes(String name);

    /**
     * A zero-copy view of a tensor of the mapped checkpoint, valid while the load runs: for a
     * quantize kernel whose output combines two checkpoint tensors (MXFP4's {@code *_blocks} and
     * {@code *_scales} dequantized on load into one dense weight). Views without a mapping have none.
     */
    default Tensor mapped(String name) {
        throw new IllegalArgumentException("this checkpoint view has no mapped tensors (asked for '" + name + "')");
    }
}
