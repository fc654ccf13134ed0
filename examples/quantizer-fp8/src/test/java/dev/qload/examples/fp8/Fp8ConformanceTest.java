package dev.qload.examples.fp8;

import dev.qload.core.spi.QuantizerProvider;
import dev.qload.tests.ErrorBounds;
import dev.qload.tests.QuantizerConformanceTest;
import java.util.List;
import java.util.Map;

/**
 * qload's conformance kit on the FP8 plugin: every capability it declares (all five) on the kit's
 * random tiny Llamas, with the default 128×128 tiles (every tile partial at these widths) and with
 * small 32×16 tiles (many tiles, partial ones at the awkward widths).
 */
class Fp8ConformanceTest extends QuantizerConformanceTest {
    @Override
    protected QuantizerProvider provider() {
        return new Fp8QuantizerProvider();
    }

    @Override
    protected List<Map<String, ?>> configs() {
        return List.of(Map.of(), Map.of("activation_scheme", "dynamic", "weight_block_size", List.of(32, 16)));
    }

    /**
     * E4M3 keeps 3 mantissa bits: rounding to nearest moves a value by at most 1/16 of its binade,
     * a relative RMS near 0.03 on Gaussian weights whatever the tile; 0.04 leaves room and still
     * catches a lost or misplaced tile. The forward decodes the same weights and multiplies in F32,
     * so it must match dequantize-then-matmul to float rounding (the kit's default).
     */
    @Override
    protected ErrorBounds errorBounds(Map<String, ?> config) {
        return ErrorBounds.dequantized(0.04);
    }
}
