package dev.qload.models.llama;

import dev.qload.core.module.Module;
import dev.qload.core.nn.Linear;
import dev.qload.core.tensor.DType;

/**
 * {@code LlamaForCausalLM} (and, by config, Mistral and Qwen2): {@code model} and {@code lm_head}.
 * State-dict keys are transformers' own: {@code model.layers.0.self_attn.q_proj.weight}, ...
 */
public final class LlamaForCausalLM extends Module {
    private final LlamaConfig config;

    public LlamaForCausalLM(LlamaConfig config, DType dtype) {
        this.config = config;
        registerChild("model", new LlamaModel(config, dtype));
        registerChild("lm_head", new Linear(config.hiddenSize(), config.vocabSize(), false, dtype));
    }

    public LlamaConfig config() {
        return config;
    }
}
