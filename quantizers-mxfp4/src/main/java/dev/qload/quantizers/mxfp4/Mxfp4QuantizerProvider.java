package dev.qload.quantizers.mxfp4;

import dev.qload.core.spi.QuantizationConfig;
import dev.qload.core.spi.Quantizer;
import dev.qload.core.spi.QuantizerProvider;

/** The MXFP4 plugin: {@code quant_method: "mxfp4"} (gpt-oss's experts). */
public final class Mxfp4QuantizerProvider implements QuantizerProvider {
    @Override
    public String name() {
        return Mxfp4Quantizer.NAME;
    }

    @Override
    public Quantizer create(QuantizationConfig config) {
        return new Mxfp4Quantizer(Mxfp4Config.from(config.fields()), config.preQuantized());
    }
}
