package dev.qload.bench;

import dev.qload.core.QLoad;
import dev.qload.core.kernel.Kernels;
import dev.qload.core.load.LoadOptions;
import dev.qload.core.load.LoadedModel;
import dev.qload.models.llama.LlamaForCausalLM;
import dev.qload.models.llama.LlamaInference;
import java.nio.file.Path;

/** The two qload runs the load matrix times: a load, and a load followed by the first forward pass. */
final class QloadRuns {
    /** The KV cache of the first-logits run: the prompt is far shorter. */
    private static final int MAX_POSITIONS = 64;

    /** Keeps the logits observable, so the forward pass cannot be dropped as dead code. */
    static volatile float sink;

    private QloadRuns() {}

    /** One {@link QLoad#load}, closed afterwards; the model's bytes from its report. */
    static LoadSample load(Path dir, LoadOptions options) {
        RunClock clock = RunClock.start();
        try (LoadedModel model = QLoad.load(dir, options)) {
            return clock.stop(model.report().modelBytes());
        }
    }

    /**
     * Time to first logits: the load, then one forward pass of {@link DecodeBench#PROMPT} (the same
     * 8 ids Jlama's probe runs) through {@link LlamaInference}, up to the last position's logits.
     */
    static LoadSample firstLogits(Path dir, LoadOptions options) {
        RunClock clock = RunClock.start();
        try (LoadedModel model = QLoad.load(dir, options)) {
            LlamaInference inference = new LlamaInference((LlamaForCausalLM) model.root(), Kernels.get(), MAX_POSITIONS);
            float[] logits = inference.append(DecodeBench.PROMPT, false);
            LoadSample sample = clock.stop(model.report().modelBytes());
            sink = logits[0];
            return sample;
        }
    }
}
