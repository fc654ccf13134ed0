package dev.qload.core.nn;

/**
 * A mixture-of-experts block whose experts are stored fused, as transformers' {@code GptOssExperts}
 * stores them, and every quantized replacement of it (MXFP4's experts). Forward passes reach each
 * expert's two projections through this interface, so a quantized module runs without being
 * dequantized, the way {@link LinearForward} serves a single {@code Linear}.
 *
 * <p>The dense module's slots, with E experts, hidden size H and intermediate size I (transformers'
 * orientation, {@code x @ W}, not {@code nn.Linear}'s):
 * <pre>
 * gate_up_proj       [E, H, 2I]   output columns interleaved: even = gate, odd = up
 * gate_up_proj_bias  [E, 2I]
 * down_proj          [E, I, H]
 * down_proj_bias     [E, H]
 * </pre>
 * A quantizer that dequantizes on load fills these slots by name.
 */
public interface FusedExperts {
    String GATE_UP = "gate_up_proj";
    String DOWN = "down_proj";
    String BIAS_SUFFIX = "_bias";

    int numExperts();

    long hiddenSize();

    long intermediateSize();

    /** Expert {@code expert}'s first projection with its bias: in = H, out = 2I (gate and up interleaved). */
    LinearForward gateUp(int expert);

    /** Expert {@code expert}'s second projection with its bias: in = I, out = H. */
    LinearForward down(int expert);
}
