package dev.qload.models.gptoss;

import dev.qload.core.config.ModelConfig;
import dev.qload.core.module.Module;
import dev.qload.core.spi.ArchitectureProvider;
import dev.qload.core.spi.TiedWeight;
import dev.qload.core.tensor.DType;
import java.util.List;
import java.util.Set;

/** OpenAI's gpt-oss (20b, 120b) in transformers' layout: {@code GptOssForCausalLM}, {@code model_type: gpt_oss}. */
public final class GptOssArchitecture implements ArchitectureProvider {
    @Override
    public String name() {
        return "gpt_oss";
    }

    @Override
    public Set<String> architectures() {
        return Set.of("GptOssForCausalLM");
    }

    @Override
    public Set<String> modelTypes() {
        return Set.of("gpt_oss");
    }

    @Override
    public Module build(ModelConfig config, DType dtype) {
        return new GptOssForCausalLM(GptOssConfig.from(config), dtype);
    }

    @Override
    public List<TiedWeight> tiedWeights(ModelConfig config) {
        return config.boolValue("tie_word_embeddings", false)
                ? List.of(new TiedWeight("lm_head.weight", "model.embed_tokens.weight"))
                : List.of();
    }
}
