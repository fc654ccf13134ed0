package dev.qload.timm;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.qload.core.QLoad;
import dev.qload.core.kernel.Kernels;
import dev.qload.core.load.LoadOptions;
import dev.qload.core.load.LoadedModel;
import dev.qload.core.tensor.OffHeap;
import dev.qload.core.tensor.Tensor;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** Meta load of every fixture, then logits against PyTorch's (tools/fixtures/timm): within 1e-4. */
class TimmForwardTest {
    static final double TOLERANCE = 1e-4;

    @ParameterizedTest
    @ValueSource(strings = {"vit-tiny", "vit-tiny-wrapper", "deit3-tiny", "vit-reg-gap", "swin-tiny", "swin-tiny-wrapper", "eva02-tiny",
            "resnet-tiny"})
    void logitsMatchPyTorch(String model) {
        float[] expected = TimmFixtures.referenceLogits(model);
        Tensor pixels = TimmFixtures.pixelValues(model);
        long before = OffHeap.liveBytes();
        try (LoadedModel loaded = QLoad.load(TimmFixtures.dir(model), LoadOptions.defaults())) {
            for (Kernels k : new Kernels[] {Kernels.get(), Kernels.scalar()}) {
                float[] logits = ImageClassification.of(loaded, k).logits(pixels, model);
                double err = TimmFixtures.maxAbsDiff(logits, expected);
                System.out.printf("%-18s %-7s max |logit - torch| = %.3g%n", model, k.name(), err);
                assertTrue(err <= TOLERANCE, model + " (" + k.name() + "): max abs error " + err);
            }
        }
        assertEquals(before, OffHeap.liveBytes(), "closing the model returns its memory");
    }
}
