package dev.qload.quantizers.bnb;

import dev.qload.core.spi.QuantizerProvider;
import dev.qload.tests.ErrorBounds;
import dev.qload.tests.QuantizerConformanceTest;
import java.util.List;
import java.util.Map;

/**
 * The bitsandbytes plugin against the conformance kit: NF4 with double quantization, FP4, and
 * LLM.int8. The bounds are what the formats reach on the kit's Gaussian weights (NF4 ≈ 0.092,
 * FP4 ≈ 0.122, int8 ≈ 0.006 relative RMS), with room for other seeds and nothing more.
 */
class BitsAndBytesConformanceTest extends QuantizerConformanceTest {
    @Override
    protected QuantizerProvider provider() {
        return new BitsAndBytesQuantizerProvider();
    }

    @Override
    protected List<Map<String, ?>> configs() {
        return List.of(
                Map.of("load_in_4bit", true, "bnb_4bit_quant_type", "nf4", "bnb_4bit_use_double_quant", true),
                Map.of("load_in_4bit", true, "bnb_4bit_quant_type", "fp4"),
                Map.of("load_in_8bit", true));
    }

    @Override
    protected ErrorBounds errorBounds(Map<String, ?> config) {
        if (Boolean.TRUE.equals(config.get("load_in_8bit"))) {
            // LLM.int8's forward quantizes the activations row-wise to int8 too: about 0.005 on unit Gaussian inputs.
            return ErrorBounds.dequantized(0.01).withForward(0.02);
        }
        return ErrorBounds.dequantized("nf4".equals(config.get("bnb_4bit_quant_type")) ? 0.11 : 0.14);
    }

    @Override
    protected String skipModulesField() {
        return "llm_int8_skip_modules";
    }
}
