package dev.qload.core.spi;

import java.util.List;

/** What the loader does with one checkpoint tensor, as decided by the quantizer. */
public sealed interface TensorAction {
    /** Load it into the model tensor of the same name (zero-copy, copy or dtype conversion). */
    TensorAction COPY = new Copy();

    record Copy() implements TensorAction {}

    /**
     * Not loaded into a slot: the quantizer already consumed it (metadata it read through
     * {@link CheckpointView} while replacing modules) and will write it back itself on save.
     */
    record Consumed(String why) implements TensorAction {}

    /**
     * Quantize it into the owner module's slots named in {@code targets} (local names such as
     * {@code weight}, {@code weight.absmax}-style slots of the replaced module).
     */
    record Quantize(List<String> targets, QuantizeKernel kernel) implements TensorAction {
        public Quantize {
            targets = List.copyOf(targets);
        }
    }
}
