package dev.qload.quantizers.gptq;

import dev.qload.core.spi.QuantizerProvider;
import dev.qload.tests.ErrorBounds;
import dev.qload.tests.QuantizerConformanceTest;
import java.util.List;
import java.util.Map;

/**
 * The GPTQ plugin against the conformance kit, through its quantize-on-load path (round-to-nearest,
 * the GPTQ loop without calibration data), then save, reload pre-quantized, forward and
 * dequantize. Bounds: relative RMS error of uniform b-bit quantization of the kit's Gaussian
 * weights, per group min/max: about 0.09 (4-bit, g32), 0.19 (3-bit, g64), 0.4 (2-bit), 0.006 (8-bit, whole rows).
 */
class GptqConformanceTest extends QuantizerConformanceTest {
    @Override
    protected QuantizerProvider provider() {
        return new GptqQuantizerProvider();
    }

    @Override
    protected List<Map<String, ?>> configs() {
        return List.of(
                Map.of("bits", 4, "group_size", 32, "sym", true),
                Map.of("bits", 3, "group_size", 64, "sym", false, "checkpoint_format", "gptq_v2"),
                Map.of("bits", 2, "group_size", 32, "sym", false),
                Map.of("bits", 8, "group_size", -1, "sym", true));
    }

    @Override
    protected ErrorBounds errorBounds(Map<String, ?> config) {
        return ErrorBounds.dequantized(switch ((Integer) config.get("bits")) {
            case 8 -> 0.01;
            case 4 -> 0.12;
            case 3 -> 0.25;
            default -> 0.5;
        });
    }

    /** GPTQ keeps layers dense through {@code modules_in_block_to_quantize}, not a skip list. */
    @Override
    protected String skipModulesField() {
        return null;
    }

    /** 3-bit packing needs widths that are multiples of 32 (qweight rows in·b/32, qzeros out·b/32). */
    @Override
    protected int shapeMultiple() {
        return 32;
    }
}
