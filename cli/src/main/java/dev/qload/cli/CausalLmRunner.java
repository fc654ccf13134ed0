package dev.qload.cli;

import dev.qload.core.error.ErrorId;
import dev.qload.core.error.PluginException;
import dev.qload.core.error.Problem;
import dev.qload.core.kernel.Kernels;
import dev.qload.core.load.LoadedModel;
import dev.qload.core.module.Module;
import dev.qload.models.CausalLanguageModel;
import dev.qload.models.gptoss.GptOssForCausalLM;
import dev.qload.models.gptoss.GptOssInference;
import dev.qload.models.llama.LlamaForCausalLM;
import dev.qload.models.llama.LlamaInference;

/** Finds the forward pass for a loaded causal language model. */
final class CausalLmRunner {
    private CausalLmRunner() {}

    static CausalLanguageModel of(LoadedModel model, int maxPositions) {
        return of(model.root(), maxPositions);
    }

    /** For the module tree as it stands now (a quantizer may have replaced modules since the load). */
    static CausalLanguageModel of(Module root, int maxPositions) {
        if (root instanceof LlamaForCausalLM llama) return new LlamaInference(llama, Kernels.get(), maxPositions);
        if (root instanceof GptOssForCausalLM gptOss) return new GptOssInference(gptOss, Kernels.get(), maxPositions);
        throw new PluginException(Problem.of(ErrorId.NOT_SUPPORTED, "no forward pass for " + root.typeName() + " yet"));
    }
}
