package dev.qload.models.llama;

import dev.qload.core.module.Module;
import dev.qload.core.nn.RmsNorm;
import dev.qload.core.tensor.DType;

/** {@code LlamaDecoderLayer}: pre-norm attention and MLP, each with a residual. */
public final class LlamaDecoderLayer extends Module {
    public LlamaDecoderLayer(LlamaConfig c, int layer, DType dtype) {
        registerChild("self_attn", new LlamaAttention(c, layer, dtype));
        registerChild("mlp", new LlamaMlp(c, dtype));
        registerChild("input_layernorm", new RmsNorm(c.hiddenSize(), c.rmsNormEps(), dtype));
        registerChild("post_attention_layernorm", new RmsNorm(c.hiddenSize(), c.rmsNormEps(), dtype));
    }
}
