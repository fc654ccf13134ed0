package dev.qload.quantizers.bnb;

import dev.qload.core.spi.QuantizationConfig;
import dev.qload.core.spi.Quantizer;
import dev.qload.core.spi.QuantizerProvider;

/** The bitsandbytes plugin: {@code quant_method: "bitsandbytes"}. */
public final class BitsAndBytesQuantizerProvider implements QuantizerProvider {
    @Override
    public String name() {
        return BitsAndBytesQuantizer.NAME;
    }

    @Override
    public Quantizer create(QuantizationConfig config) {
        return new BitsAndBytesQuantizer(BnbConfig.from(config.fields()), config.preQuantized());
    }
}
