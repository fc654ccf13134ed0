package dev.qload.quantizers.gptq;

import dev.qload.core.error.ConfigException;
import dev.qload.core.error.ErrorId;
import dev.qload.core.error.Problem;
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
        GptqConfig gptq = GptqConfig.from(config.fields());
        if (!config.preQuantized() && gptq.descAct()) {
            // act-order visits columns by decreasing Hessian diagonal: without calibration data there is none.
            throw new ConfigException(Problem.of(ErrorId.CONFIG_INVALID,
                    "GPTQ desc_act needs calibration data; quantize with `qload quantize DIR --method gptq --calibration FILE` instead of on load"));
        }
        return new GptqQuantizer(gptq);
    }
}
