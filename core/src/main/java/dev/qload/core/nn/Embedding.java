package dev.qload.core.nn;

import dev.qload.core.module.Module;
import dev.qload.core.tensor.DType;
import dev.qload.core.tensor.Shape;
import dev.qload.core.tensor.Tensor;

/** {@code nn.Embedding}: {@code weight} is {@code [num_embeddings, embedding_dim]}; eager init N(0, 1). */
public class Embedding extends Module {
    public Embedding(long numEmbeddings, long embeddingDim, DType dtype) {
        RandomInit.normal(registerParameter("weight", Tensor.empty(Shape.of(numEmbeddings, embeddingDim), dtype)), 1.0);
    }

    public Tensor weight() {
        return slot("weight").get();
    }
}
