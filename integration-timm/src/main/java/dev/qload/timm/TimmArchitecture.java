package dev.qload.timm;

import dev.qload.core.config.ModelConfig;
import dev.qload.core.module.Module;
import dev.qload.core.spi.ArchitectureProvider;
import dev.qload.core.spi.KeyRename;
import dev.qload.core.tensor.DType;
import java.util.List;
import java.util.Set;

/**
 * timm image classifiers, in both layouts a checkpoint directory comes in: the Hub's timm layout
 * ({@code config.json} with {@code architecture} and no {@code model_type}, recognised by
 * {@link #recognizes}) and transformers' TimmWrapper ({@code model_type: timm_wrapper}, every key
 * under {@code timm_model.}, which {@link #keyRenames} strips: TimmWrapperPreTrainedModel's
 * {@code base_model_prefix}).
 */
public final class TimmArchitecture implements ArchitectureProvider {
    @Override
    public String name() {
        return "timm";
    }

    @Override
    public Set<String> architectures() {
        return Set.of("TimmWrapperForImageClassification");
    }

    @Override
    public Set<String> modelTypes() {
        return Set.of("timm_wrapper");
    }

    /** timm's Hub config: an {@code architecture} string and no {@code model_type} of transformers. */
    @Override
    public boolean recognizes(ModelConfig config) {
        return !config.has("model_type") && config.has("architecture") && config.json().get("architecture").isString();
    }

    @Override
    public Module build(ModelConfig config, DType dtype) {
        return TimmModels.build(TimmConfig.from(config), dtype);
    }

    @Override
    public List<KeyRename> keyRenames(ModelConfig config) {
        return List.of(KeyRename.of("^timm_model\\.", ""));
    }
}
