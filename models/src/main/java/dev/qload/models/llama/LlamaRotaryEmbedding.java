package dev.qload.models.llama;

import dev.qload.core.module.Module;
import dev.qload.core.tensor.DType;
import dev.qload.core.tensor.Shape;
import dev.qload.core.tensor.Tensor;

/**
 * RoPE's {@code inv_freq} and {@code original_inv_freq}: non-persistent buffers, never in a
 * checkpoint, the buffers every careless loader leaves uninitialised. Their initializer is
 * {@link RopeInit}; they are F32 whatever the model dtype, as in transformers.
 */
public final class LlamaRotaryEmbedding extends Module {
    private final RopeParameters parameters;
    private final float attentionScaling;

    public LlamaRotaryEmbedding(RopeParameters parameters) {
        this.parameters = parameters;
        this.attentionScaling = RopeInit.attentionScaling(parameters);
        Shape shape = Shape.of(parameters.dim() / 2);
        registerNonPersistentBuffer("inv_freq", Tensor.empty(shape, DType.F32), this::initialize);
        registerNonPersistentBuffer("original_inv_freq", Tensor.empty(shape, DType.F32), this::initialize);
        if (!slot("inv_freq").get().isMeta()) { // built eagerly: compute now, as the PyTorch constructor does
            initialize(slot("inv_freq").get());
            initialize(slot("original_inv_freq").get());
        }
    }

    private void initialize(Tensor target) {
        RopeInit.fill(target, RopeInit.invFreq(parameters));
    }

    public RopeParameters parameters() {
        return parameters;
    }

    public float attentionScaling() {
        return attentionScaling;
    }

    public Tensor invFreq() {
        return slot("inv_freq").get();
    }

    @Override
    public String typeName() {
        return "LlamaRotaryEmbedding";
    }
}
