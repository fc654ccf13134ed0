package dev.qload.tests.toy;

import dev.qload.core.spi.QuantizerProvider;
import dev.qload.tests.ErrorBounds;
import dev.qload.tests.QuantizerConformanceTest;
import java.util.Map;

/** Broken on purpose ({@link Flaw#WRONG_NOT_SUPPORTED_ERROR}); run by QuantizerConformanceKitTest, never by surefire. */
public class WrongNotSupportedErrorConformance extends QuantizerConformanceTest {
    @Override
    protected QuantizerProvider provider() {
        return new ToyInt8Provider.WrongNotSupportedError();
    }

    @Override
    protected ErrorBounds errorBounds(Map<String, ?> config) {
        return ToyInt8Provider.BOUNDS;
    }
}
