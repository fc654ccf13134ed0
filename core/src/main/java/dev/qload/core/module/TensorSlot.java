package dev.qload.core.module;

import dev.qload.core.tensor.Tensor;
import java.util.Objects;

/**
 * A named place in a module that holds a tensor, like an entry of PyTorch's {@code _parameters} or
 * {@code _buffers}. The loader fills it by {@link #set}; the shape and dtype declared when it was
 * registered on META are the contract the checkpoint must meet.
 */
public final class TensorSlot {
    private final Module owner;
    private final String name;
    private final TensorKind kind;
    private final BufferInitializer initializer; // required for non-persistent buffers
    private volatile Tensor tensor;

    TensorSlot(Module owner, String name, TensorKind kind, Tensor tensor, BufferInitializer initializer) {
        this.owner = owner;
        this.name = name;
        this.kind = kind;
        this.tensor = Objects.requireNonNull(tensor, "tensor");
        this.initializer = initializer;
    }

    public Module owner() {
        return owner;
    }

    /** The local name inside its module ({@code weight}, {@code inv_freq}). */
    public String name() {
        return name;
    }

    public TensorKind kind() {
        return kind;
    }

    public Tensor get() {
        return tensor;
    }

    /** Replaces the tensor; its shape must equal the declared one (the dtype may change on load). */
    public void set(Tensor replacement) {
        if (!replacement.shape().equals(tensor.shape())) {
            throw new IllegalArgumentException(owner.getClass().getSimpleName() + "." + name + " is " + tensor.shape()
                    + ", cannot hold " + replacement.shape());
        }
        this.tensor = replacement;
    }

    public BufferInitializer initializer() {
        return initializer;
    }

    public boolean hasInitializer() {
        return initializer != null;
    }
}
