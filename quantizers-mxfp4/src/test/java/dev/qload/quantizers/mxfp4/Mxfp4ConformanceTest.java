package dev.qload.quantizers.mxfp4;

import dev.qload.core.spi.QuantizerProvider;
import dev.qload.tests.ErrorBounds;
import dev.qload.tests.QuantizerConformanceTest;
import java.util.List;
import java.util.Map;

/**
 * The conformance kit on MXFP4. The kit's models are tiny Llamas: Linears, no experts. transformers'
 * MXFP4 quantizes only experts, so on a Llama it would replace nothing and the kit would have nothing
 * to check. The kit therefore runs MXFP4 with qload's {@code qload_quantize_linear: true}
 * ({@link Mxfp4Linear}): the same codec ({@link Mxfp4Format}, {@link DenseToMxfp4}, {@link Mxfp4ToDense}),
 * the same forward ({@link Mxfp4Projection}), the same zero-copy load, NaN-scale check, save layout
 * and skip patterns as the experts, on every Linear. The experts themselves are proven against
 * PyTorch on the tiny GPT-OSS ({@link Mxfp4ModelTest}, {@link Mxfp4HostileInputTest}).
 *
 * <p>Widths are multiples of 32 ({@link #shapeMultiple}), MXFP4's group. The error bound: E2M1 has a
 * relative step of up to 1/3 and the power-of-two scale rounded up leaves a group's largest value
 * between 3 and 6; on Gaussian weights this lands near 0.116 relative RMS (mxfp4_ref.downcast_to_mxfp on torch.randn
 * weights of 64 to 192 columns), declared as 0.15.
 */
class Mxfp4ConformanceTest extends QuantizerConformanceTest {
    @Override
    protected QuantizerProvider provider() {
        return new Mxfp4QuantizerProvider();
    }

    @Override
    protected List<Map<String, ?>> configs() {
        return List.of(Map.of(Mxfp4Config.QUANTIZE_LINEAR, true));
    }

    @Override
    protected ErrorBounds errorBounds(Map<String, ?> config) {
        return ErrorBounds.dequantized(0.15);
    }

    @Override
    protected int shapeMultiple() {
        return 32;
    }
}
