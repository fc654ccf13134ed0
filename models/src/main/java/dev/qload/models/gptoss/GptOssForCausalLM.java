package dev.qload.models.gptoss;

import dev.qload.core.module.Module;
import dev.qload.core.nn.Linear;
import dev.qload.core.tensor.DType;

/** {@code GptOssForCausalLM}: {@code model} and an untied {@code lm_head}, transformers' state-dict keys. */
public final class GptOssForCausalLM extends Module {
    private final GptOssConfig config;

    public GptOssForCausalLM(GptOssConfig config, DType dtype) {
        this.config = config;
        registerChild("model", new GptOssModel(config, dtype));
        registerChild("lm_head", new Linear(config.hiddenSize(), config.vocabSize(), false, dtype));
    }

    public GptOssConfig config() {
        return config;
    }
}
