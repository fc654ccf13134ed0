package dev.qload.models.gptoss;

import dev.qload.core.module.Module;
import dev.qload.core.nn.Embedding;
import dev.qload.core.nn.ModuleList;
import dev.qload.core.nn.RmsNorm;
import dev.qload.core.tensor.DType;
import dev.qload.models.llama.LlamaRotaryEmbedding;

/**
 * {@code GptOssModel}: embeddings, decoder layers, final norm and the rotary embedding. RoPE is
 * YaRN in every released gpt-oss config; its {@code inv_freq} is the Llama family's
 * non-persistent buffer with the same initializer ({@code GptOssRotaryEmbedding} uses the same
 * {@code ROPE_INIT_FUNCTIONS}).
 */
public final class GptOssModel extends Module {
    public GptOssModel(GptOssConfig c, DType dtype) {
        registerChild("embed_tokens", new Embedding(c.vocabSize(), c.hiddenSize(), dtype));
        ModuleList<GptOssDecoderLayer> layers = registerChild("layers", new ModuleList<>());
        for (int i = 0; i < c.numHiddenLayers(); i++) layers.add(new GptOssDecoderLayer(c, i, dtype));
        registerChild("norm", new RmsNorm(c.hiddenSize(), c.rmsNormEps(), dtype));
        registerChild("rotary_emb", new LlamaRotaryEmbedding(c.rope()));
    }
}
