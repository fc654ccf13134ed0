package dev.qload.tests.toy;

import dev.qload.core.spi.QuantizerProvider;
import dev.qload.tests.ErrorBounds;
import dev.qload.tests.QuantizerConformanceTest;
import java.util.Map;

/** Broken on purpose: a correct quantizer missing from META-INF/services; run by QuantizerConformanceKitTest, never by surefire. */
public class UnregisteredConformance extends QuantizerConformanceTest {
    @Override
    protected QuantizerProvider provider() {
        return new ToyInt8Provider.Unregistered();
    }

    @Override
    protected ErrorBounds errorBounds(Map<String, ?> config) {
        return ToyInt8Provider.BOUNDS;
    }
}
