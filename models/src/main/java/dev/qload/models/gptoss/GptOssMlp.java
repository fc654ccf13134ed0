package dev.qload.models.gptoss;

import dev.qload.core.module.Module;
import dev.qload.core.nn.Linear;
import dev.qload.core.tensor.DType;

/**
 * {@code GptOssMLP}: the {@code router} ({@code GptOssTopKRouter}: weight [E, H] and bias [E], the
 * same tensors as a biased Linear) and the fused {@code experts}.
 */
public final class GptOssMlp extends Module {
    public GptOssMlp(GptOssConfig c, DType dtype) {
        registerChild("router", new Linear(c.hiddenSize(), c.numLocalExperts(), true, dtype));
        registerChild("experts", new GptOssExperts(c.numLocalExperts(), c.hiddenSize(), c.intermediateSize(), dtype));
    }
}
