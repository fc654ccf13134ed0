package dev.qload.timm;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.qload.core.QLoad;
import dev.qload.core.kernel.Kernels;
import dev.qload.core.load.LoadOptions;
import dev.qload.core.load.LoadedModel;
import dev.qload.core.tensor.DType;
import dev.qload.core.tensor.OffHeap;
import dev.qload.core.tensor.Tensor;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** Meta load of every fixture, then logits against PyTorch's (tools/fixtures/timm): within 1e-4. */
class TimmForwardTest {
    static final double TOLERANCE = 1e-4;

    @ParameterizedTest
    @ValueSource(strings = {"vit-tiny", "vit-tiny-wrapper", "deit3-tiny", "vit-reg-gap", "swin-tiny", "swin-tiny-wrapper", "eva02-tiny",
            "resnet-tiny", "resnet50-tiny"})
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

    /** BF16 weights (converted on load; buffers such as attn_mask follow the model dtype): close to F32, not equal. */
    @ParameterizedTest
    @ValueSource(strings = {"vit-tiny", "swin-tiny", "eva02-tiny", "resnet-tiny", "resnet50-tiny"})
    void bf16LoadStaysCloseToTheF32Reference(String model) {
        float[] expected = TimmFixtures.referenceLogits(model);
        Tensor pixels = TimmFixtures.pixelValues(model);
        try (LoadedModel loaded = QLoad.load(TimmFixtures.dir(model), LoadOptions.builder().dtype(DType.BF16).build())) {
            float[] logits = ImageClassification.of(loaded, Kernels.get()).logits(pixels, model);
            double scale = 0;
            for (float v : expected) scale = Math.max(scale, Math.abs(v));
            double err = TimmFixtures.maxAbsDiff(logits, expected);
            System.out.printf("%-18s bf16    max |logit - torch f32| = %.3g (max |logit| %.3g)%n", model, err, scale);
            assertTrue(err > 0 && err < 0.05 * scale, model + ": " + err);
        }
    }
}
