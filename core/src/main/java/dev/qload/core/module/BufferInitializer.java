package dev.qload.core.module;

import dev.qload.core.tensor.Tensor;

/**
 * Computes a buffer's value from the module's own configuration. Every non-persistent buffer has
 * one: such buffers are never in a checkpoint, so after a meta build this is the only way they get
 * their values (RoPE {@code inv_freq}, timm's {@code relative_position_index}, ...).
 * It must be deterministic: an eager build and a meta load must agree bit for bit.
 */
@FunctionalInterface
public interface BufferInitializer {
    /** Fills {@code target}, a fresh CPU tensor of the buffer's shape and dtype. */
    void initialize(Tensor target);
}
