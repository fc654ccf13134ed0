package dev.qload.core.load;

import dev.qload.core.tensor.Shape;

/** A checkpoint tensor whose shape differs from the model's, as transformers reports it (name, ckpt, model). */
public record MismatchedKey(String key, Shape checkpointShape, Shape modelShape) {
    @Override
    public String toString() {
        return key + " (checkpoint " + checkpointShape + " vs model " + modelShape + ")";
    }
}
