package dev.qload.models.gptoss;

import dev.qload.core.module.Module;
import dev.qload.core.nn.Linear;
import dev.qload.core.nn.RandomInit;
import dev.qload.core.tensor.DType;
import dev.qload.core.tensor.Shape;
import dev.qload.core.tensor.Tensor;

/**
 * {@code GptOssAttention}: q/k/v/o projections with biases and {@code sinks}, one learned logit per
 * head that joins every softmax and is then dropped ({@code eager_attention_forward}); the window is
 * per layer ({@code layer_types}).
 */
public final class GptOssAttention extends Module {
    private final int slidingWindow;

    public GptOssAttention(GptOssConfig c, int layer, DType dtype) {
        long q = (long) c.numAttentionHeads() * c.headDim();
        long kv = (long) c.numKeyValueHeads() * c.headDim();
        registerChild("q_proj", new Linear(c.hiddenSize(), q, c.attentionBias(), dtype));
        registerChild("k_proj", new Linear(c.hiddenSize(), kv, c.attentionBias(), dtype));
        registerChild("v_proj", new Linear(c.hiddenSize(), kv, c.attentionBias(), dtype));
        registerChild("o_proj", new Linear(q, c.hiddenSize(), c.attentionBias(), dtype));
        // GptOssPreTrainedModel._init_weights: sinks ~ normal(0, initializer_range).
        RandomInit.normal(registerParameter("sinks", Tensor.empty(Shape.of(c.numAttentionHeads()), dtype)), 0.02);
        this.slidingWindow = c.slidingWindows()[layer];
    }

    /** Window size for this layer, 0 for full causal attention. */
    public int slidingWindow() {
        return slidingWindow;
    }

    public Tensor sinks() {
        return slot("sinks").get();
    }
}
