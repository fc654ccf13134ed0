package dev.qload.models.llama;

import dev.qload.core.module.Module;
import dev.qload.core.nn.Linear;
import dev.qload.core.tensor.DType;

/** {@code LlamaMLP}: {@code down(silu(gate(x)) * up(x))}. */
public final class LlamaMlp extends Module {
    public LlamaMlp(LlamaConfig c, DType dtype) {
        registerChild("gate_proj", new Linear(c.hiddenSize(), c.intermediateSize(), c.mlpBias(), dtype));
        registerChild("up_proj", new Linear(c.hiddenSize(), c.intermediateSize(), c.mlpBias(), dtype));
        registerChild("down_proj", new Linear(c.intermediateSize(), c.hiddenSize(), c.mlpBias(), dtype));
    }

    @Override
    public String typeName() {
        return "LlamaMLP";
    }
}
