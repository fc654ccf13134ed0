package dev.qload.core.spi;

import dev.qload.core.config.ModelConfig;
import dev.qload.core.module.Module;
import dev.qload.core.tensor.DType;
import java.util.List;
import java.util.Set;

/**
 * Builds a model family's module tree from its {@code config.json}. Found with
 * {@link java.util.ServiceLoader}; the loader calls {@link #build} inside a meta scope, so a
 * provider just constructs modules the ordinary way and nothing gets allocated.
 */
public interface ArchitectureProvider {
    /** The provider's identity, shown by {@code qload plugins} ("llama"). */
    String name();

    /** The {@code architectures} entries of config.json it builds ("LlamaForCausalLM", ...). */
    Set<String> architectures();

    /** The {@code model_type} values it builds, used when {@code architectures} is absent. */
    Set<String> modelTypes();

    /**
     * Whether it builds a config that names neither a known {@code architectures} entry nor a known
     * {@code model_type}: asked last, for layouts that have neither (timm's Hub {@code config.json}
     * names its model in {@code architecture}, singular).
     */
    default boolean recognizes(ModelConfig config) {
        return false;
    }

    /**
     * The module tree, with parameters in {@code dtype} (buffers and parameters that must keep
     * their own dtype, such as integer indices, declare it themselves).
     */
    Module build(ModelConfig config, DType dtype);

    /** Checkpoint-key renames applied, in order, before keys are matched to the model. */
    default List<KeyRename> keyRenames(ModelConfig config) {
        return List.of();
    }

    /** Parameters that share storage when the config asks for it ({@code tie_word_embeddings}). */
    default List<TiedWeight> tiedWeights(ModelConfig config) {
        return List.of();
    }
}
