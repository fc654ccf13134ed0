package dev.qload.core.spi;

import dev.qload.core.config.ModelConfig;

/**
 * A {@code quantization_config}: the method name (HF's {@code quant_method}), its fields with
 * typed accessors, whether the weights in the checkpoint are already quantized (true when the
 * config came from config.json, false when the caller asks to quantize a dense checkpoint), and a
 * view of the checkpoint's headers and small metadata tensors.
 */
public record QuantizationConfig(String method, ModelConfig fields, boolean preQuantized, CheckpointView checkpoint) {
    public QuantizationConfig(String method, ModelConfig fields, boolean preQuantized) {
        this(method, fields, preQuantized, CheckpointView.EMPTY);
    }
}
