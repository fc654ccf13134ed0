package dev.qload.models.llama;

import dev.qload.core.module.Module;
import dev.qload.core.nn.Embedding;
import dev.qload.core.nn.ModuleList;
import dev.qload.core.nn.RmsNorm;
import dev.qload.core.tensor.DType;

/** {@code LlamaModel}: embeddings, the decoder layers, the final norm and the shared rotary embedding. */
public final class LlamaModel extends Module {
    public LlamaModel(LlamaConfig c, DType dtype) {
        registerChild("embed_tokens", new Embedding(c.vocabSize(), c.hiddenSize(), dtype));
        ModuleList<LlamaDecoderLayer> layers = registerChild("layers", new ModuleList<>());
        for (int i = 0; i < c.numHiddenLayers(); i++) layers.add(new LlamaDecoderLayer(c, i, dtype));
        registerChild("norm", new RmsNorm(c.hiddenSize(), c.rmsNormEps(), dtype));
        registerChild("rotary_emb", new LlamaRotaryEmbedding(c.rope()));
    }
}
