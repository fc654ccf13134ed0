package dev.qload.quantizers.gptq;

import dev.qload.core.spi.QuantizationConfig;
import dev.qload.core.spi.Quantizer;
import dev.qload.core.spi.QuantizerProvider;

/** The GPTQ plugin: {@code quant_method: "gptq"}. */
public final class GptqQuantizerProvider implements QuantizerProvider {
    @Override
    public String name() {
        return GptqQuantizer.NAME;
    }

    @Override
    public Quantizer create(QuantizationConfig config) {
        return new GptqQuantizer(GptqConfig.from(config.fields()));
    }
}
