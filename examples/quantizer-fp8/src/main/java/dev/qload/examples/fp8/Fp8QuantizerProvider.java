package dev.qload.examples.fp8;

import dev.qload.core.spi.QuantizationConfig;
import dev.qload.core.spi.Quantizer;
import dev.qload.core.spi.QuantizerProvider;

/**
 * The block-wise FP8 plugin: {@code quant_method: "fp8"}, the format of DeepSeek-V3 and the Qwen3
 * {@code -FP8} checkpoints (transformers' {@code FineGrainedFP8Config}). Registered in
 * {@code META-INF/services/dev.qload.core.spi.QuantizerProvider}; put this jar on the classpath
 * (or the plugin path) and qload loads such checkpoints, or quantizes dense ones with
 * {@code --quantize fp8}.
 *
 * <p>Checkpoint layout, per quantized Linear {@code P} with {@code weight_block_size = [b0, b1]}
 * (default 128×128):
 *
 * <pre>
 * P.weight            F8_E4M3 [out, in]                     E4M3 codes (bias 7, max 448, NaN S.1111.111, no Inf)
 * P.weight_scale_inv  F32     [ceil(out/b0), ceil(in/b1)]   W[r, c] = e4m3(P.weight[r, c]) · P.weight_scale_inv[r/b0, c/b1]
 * P.bias              as the model, when the Linear has one
 * </pre>
 *
 * The output head, embeddings and norms stay dense. Capabilities: pre-quantized load (zero-copy),
 * quantize on load, dequantize, save, and a weight-only forward pass with F32 activations.
 */
public final class Fp8QuantizerProvider implements QuantizerProvider {
    @Override
    public String name() {
        return Fp8Quantizer.NAME;
    }

    @Override
    public Quantizer create(QuantizationConfig config) {
        return new Fp8Quantizer(Fp8Config.from(config.fields()), config.preQuantized());
    }
}
