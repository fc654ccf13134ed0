package dev.qload.models.llama;

import dev.qload.core.module.Module;
import dev.qload.core.nn.Linear;
import dev.qload.core.tensor.DType;

/** {@code LlamaAttention}: q/k/v/o projections for grouped-query attention; the window is per layer. */
public final class LlamaAttention extends Module {
    private final int slidingWindow;

    public LlamaAttention(LlamaConfig c, int layer, DType dtype) {
        long q = (long) c.numAttentionHeads() * c.headDim();
        long kv = (long) c.numKeyValueHeads() * c.headDim();
        registerChild("q_proj", new Linear(c.hiddenSize(), q, c.qkvBias(), dtype));
        registerChild("k_proj", new Linear(c.hiddenSize(), kv, c.qkvBias(), dtype));
        registerChild("v_proj", new Linear(c.hiddenSize(), kv, c.qkvBias(), dtype));
        registerChild("o_proj", new Linear(q, c.hiddenSize(), c.oProjBias(), dtype));
        this.slidingWindow = c.slidingWindows()[layer];
    }

    /** Window size for this layer, 0 for full causal attention. */
    public int slidingWindow() {
        return slidingWindow;
    }
}
