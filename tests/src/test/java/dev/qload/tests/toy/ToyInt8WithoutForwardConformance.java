package dev.qload.tests.toy;

import dev.qload.core.spi.QuantizerProvider;
import dev.qload.tests.ErrorBounds;
import dev.qload.tests.QuantizerConformanceTest;
import java.util.Map;

/** Correct without FORWARD: the forward checks show as skipped. */
public class ToyInt8WithoutForwardConformance extends QuantizerConformanceTest {
    @Override
    protected QuantizerProvider provider() {
        return new ToyInt8Provider.WithoutForward();
    }

    @Override
    protected ErrorBounds errorBounds(Map<String, ?> config) {
        return ToyInt8Provider.BOUNDS;
    }
}
