package dev.qload.core.load;

import dev.qload.core.checkpoint.CheckpointTensor;
import dev.qload.core.module.NamedSlot;
import dev.qload.core.spi.QuantizeKernel;
import java.util.List;

/** One checkpoint tensor and how it lands in the model. */
public sealed interface PlannedLoad {
    CheckpointTensor source();

    /** How a tensor whose layout matches is materialized. */
    enum FillKind {
        /** The model tensor is a view of the mapped file: no bytes move. */
        ZERO_COPY,
        /** One allocation, filled by a plain copy. */
        COPY,
        /** One allocation, filled by a dtype conversion. */
        CONVERT
    }

    record Fill(CheckpointTensor source, NamedSlot target, FillKind kind) implements PlannedLoad {}

    /** A dense tensor quantized on the fly into {@code targets} (all slots of one module). */
    record Quantize(CheckpointTensor source, String ownerPath, List<NamedSlot> targets, QuantizeKernel kernel) implements PlannedLoad {}
}
