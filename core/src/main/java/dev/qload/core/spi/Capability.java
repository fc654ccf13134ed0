package dev.qload.core.spi;

/** What a quantizer can do. The conformance kit tests every declared one, and the "not supported" error of every other. */
public enum Capability {
    /** Load a checkpoint that was saved quantized. */
    PRE_QUANTIZED_LOAD,
    /** Quantize dense weights while loading them. */
    QUANTIZE_ON_LOAD,
    /** Turn quantized modules back into dense ones. */
    DEQUANTIZE,
    /** Write the quantized model back in the HF layout. */
    SAVE,
    /** Run the quantized modules without dequantizing them first. */
    FORWARD
}
