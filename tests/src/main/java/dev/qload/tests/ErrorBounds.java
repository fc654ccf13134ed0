package dev.qload.tests;

/**
 * The accuracy a quantizer promises for one configuration, as relative RMS errors
 * ({@code ‖approx − exact‖₂ / ‖exact‖₂} over a whole weight or output):
 *
 * @param dequantized quantize → dequantize of a weight against the float64 weights it came from;
 *                    on the kit's Gaussian test weights NF4 lands near 0.1, int8 near 0.01
 * @param forward     the quantized module's own forward pass against dequantize-then-matmul
 *                    (in float64) on the same input; near float rounding unless the forward
 *                    quantizes its activations too (LLM.int8 does)
 */
public record ErrorBounds(double dequantized, double forward) {
    /** What a forward that decodes weights and multiplies in F32 reaches with room to spare. */
    public static final double FLOAT_FORWARD = 1e-3;

    public ErrorBounds {
        if (!(dequantized >= 0) || !(forward >= 0)) throw new IllegalArgumentException("error bounds must be non-negative numbers");
    }

    /** A dequantization bound, with a forward that must match dequantize-then-matmul to float rounding. */
    public static ErrorBounds dequantized(double relativeRms) {
        return new ErrorBounds(relativeRms, FLOAT_FORWARD);
    }

    public ErrorBounds withForward(double relativeRms) {
        return new ErrorBounds(dequantized, relativeRms);
    }
}
