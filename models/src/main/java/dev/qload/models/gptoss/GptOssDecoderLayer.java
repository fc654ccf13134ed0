package dev.qload.models.gptoss;

import dev.qload.core.module.Module;
import dev.qload.core.nn.RmsNorm;
import dev.qload.core.tensor.DType;

/** {@code GptOssDecoderLayer}: pre-norm attention with sinks, then the mixture-of-experts MLP, each with a residual. */
public final class GptOssDecoderLayer extends Module {
    public GptOssDecoderLayer(GptOssConfig c, int layer, DType dtype) {
        registerChild("self_attn", new GptOssAttention(c, layer, dtype));
        registerChild("mlp", new GptOssMlp(c, dtype));
        registerChild("input_layernorm", new RmsNorm(c.hiddenSize(), c.rmsNormEps(), dtype));
        registerChild("post_attention_layernorm", new RmsNorm(c.hiddenSize(), c.rmsNormEps(), dtype));
    }
}
