package dev.qload.models.gptoss;

import dev.qload.core.module.Module;
import dev.qload.core.nn.FusedExperts;
import dev.qload.core.nn.LinearForward;
import dev.qload.core.nn.RandomInit;
import dev.qload.core.tensor.DType;
import dev.qload.core.tensor.Shape;
import dev.qload.core.tensor.Tensor;

/**
 * {@code GptOssExperts} with dense weights, as a bf16 gpt-oss checkpoint (or the MXFP4 one
 * dequantized) holds them: {@code gate_up_proj [E, H, 2I]}, {@code gate_up_proj_bias [E, 2I]},
 * {@code down_proj [E, I, H]}, {@code down_proj_bias [E, H]}, multiplied as {@code x @ W}
 * ({@link FusedExperts} has the layout). Built eagerly, the weights draw
 * {@code normal(0, initializer_range = 0.02)} and the biases zeros, as {@code GptOssPreTrainedModel._init_weights} does.
 */
public final class GptOssExperts extends Module implements FusedExperts {
    private final int experts;
    private final long hidden;
    private final long intermediate;

    public GptOssExperts(int experts, long hidden, long intermediate, DType dtype) {
        this.experts = experts;
        this.hidden = hidden;
        this.intermediate = intermediate;
        RandomInit.normal(registerParameter(GATE_UP, Tensor.empty(Shape.of(experts, hidden, 2 * intermediate), dtype)), 0.02);
        // GptOssPreTrainedModel._init_weights: normal(0, initializer_range) weights, zero biases.
        RandomInit.fill(registerParameter(GATE_UP + BIAS_SUFFIX, Tensor.empty(Shape.of(experts, 2 * intermediate), dtype)), 0f);
        RandomInit.normal(registerParameter(DOWN, Tensor.empty(Shape.of(experts, intermediate, hidden), dtype)), 0.02);
        RandomInit.fill(registerParameter(DOWN + BIAS_SUFFIX, Tensor.empty(Shape.of(experts, hidden), dtype)), 0f);
    }

    @Override
    public int numExperts() {
        return experts;
    }

    @Override
    public long hiddenSize() {
        return hidden;
    }

    @Override
    public long intermediateSize() {
        return intermediate;
    }

    @Override
    public LinearForward gateUp(int expert) {
        return new DenseExpertProjection(slot(GATE_UP).get(), slot(GATE_UP + BIAS_SUFFIX).get(), expert);
    }

    @Override
    public LinearForward down(int expert) {
        return new DenseExpertProjection(slot(DOWN).get(), slot(DOWN + BIAS_SUFFIX).get(), expert);
    }
}
