package dev.qload.models.llama;

import dev.qload.core.config.ModelConfig;
import dev.qload.core.module.Module;
import dev.qload.core.spi.ArchitectureProvider;
import dev.qload.core.spi.TiedWeight;
import dev.qload.core.tensor.DType;
import java.util.List;
import java.util.Set;

/** The Llama family: Llama 2/3, Mistral and Qwen2 checkpoints, one module tree with config variants. */
public final class LlamaArchitecture implements ArchitectureProvider {
    @Override
    public String name() {
        return "llama";
    }

    @Override
    public Set<String> architectures() {
        return Set.of("LlamaForCausalLM", "MistralForCausalLM", "Qwen2ForCausalLM");
    }

    @Override
    public Set<String> modelTypes() {
        return Set.of("llama", "mistral", "qwen2");
    }

    @Override
    public Module build(ModelConfig config, DType dtype) {
        return new LlamaForCausalLM(LlamaConfig.from(config), dtype);
    }

    @Override
    public List<TiedWeight> tiedWeights(ModelConfig config) {
        // LlamaForCausalLM._tied_weights_keys, applied only when the config asks for tying.
        return config.boolValue("tie_word_embeddings", false)
                ? List.of(new TiedWeight("lm_head.weight", "model.embed_tokens.weight"))
                : List.of();
    }
}
