package dev.qload.tests.toy;

import dev.qload.core.spi.QuantizerProvider;
import dev.qload.tests.ErrorBounds;
import dev.qload.tests.QuantizerConformanceTest;
import java.util.Map;

/** Broken on purpose ({@link Flaw#WRONG_SCALE}); run by QuantizerConformanceKitTest, never by surefire. */
public class WrongScaleConformance extends QuantizerConformanceTest {
    @Override
    protected QuantizerProvider provider() {
        return new ToyInt8Provider.WrongScale();
    }

    @Override
    protected ErrorBounds errorBounds(Map<String, ?> config) {
        return ToyInt8Provider.BOUNDS;
    }
}
