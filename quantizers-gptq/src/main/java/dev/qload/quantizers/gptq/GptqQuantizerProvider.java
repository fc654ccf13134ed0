package dev.qload.quantizers.gptq;

import dev.qload.core.spi.Capability;
import dev.qload.core.spi.QuantizationConfig;
import dev.qload.core.spi.Quantizer;
import dev.qload.core.spi.QuantizerProvider;

/** The GPTQ plugin: {@code quant_method: "gptq"}, pre-quantized checkpoints only. */
public final class GptqQuantizerProvider implements QuantizerProvider {
    @Override
    public String name() {
        return GptqQuantizer.NAME;
    }

    @Override
    public Quantizer create(QuantizationConfig config) {
        GptqQuantizer quantizer = new GptqQuantizer(GptqConfig.from(config.fields()));
        if (!config.preQuantized()) throw quantizer.notSupported(Capability.QUANTIZE_ON_LOAD);
        return quantizer;
    }
}
