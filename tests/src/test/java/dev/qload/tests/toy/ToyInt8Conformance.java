package dev.qload.tests.toy;

import dev.qload.core.spi.QuantizerProvider;
import dev.qload.tests.ErrorBounds;
import dev.qload.tests.QuantizerConformanceTest;
import java.util.List;
import java.util.Map;

/** The reference toy: passes every check, in two configurations. */
public class ToyInt8Conformance extends QuantizerConformanceTest {
    @Override
    protected QuantizerProvider provider() {
        return new ToyInt8Provider();
    }

    @Override
    protected ErrorBounds errorBounds(Map<String, ?> config) {
        return ToyInt8Provider.BOUNDS;
    }

    @Override
    protected List<Map<String, ?>> configs() {
        return List.of(Map.of(), Map.of("blocksize", 16));
    }
}
