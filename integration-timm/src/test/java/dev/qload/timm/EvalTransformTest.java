package dev.qload.timm;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.qload.core.QLoad;
import dev.qload.core.config.ModelConfig;
import dev.qload.core.error.ErrorId;
import dev.qload.core.error.QLoadException;
import dev.qload.core.kernel.Kernels;
import dev.qload.core.load.LoadOptions;
import dev.qload.core.load.LoadedModel;
import dev.qload.core.tensor.Shape;
import dev.qload.core.tensor.Tensor;
import dev.qload.timm.image.EvalTransform;
import dev.qload.timm.image.PilResample;
import dev.qload.timm.image.RgbImage;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

/** The PNG of testdata/timm/images through timm's eval transform, against PIL + torchvision semantics in the fixture script. */
class EvalTransformTest {
    private static PretrainedConfig vitTinyCfg() {
        return TimmConfig.from(ModelConfig.read(TimmFixtures.dir("vit-tiny").resolve("config.json"))).pretrained();
    }

    @Test
    void preprocessingEqualsPilResizeCropAndNormalizeBitForBit() {
        RgbImage image = RgbImage.read(TimmFixtures.dir("images").resolve("gradient.png"));
        assertEquals(45, image.width());
        float[] pixels = EvalTransform.apply(image, vitTinyCfg());
        float[] expected = TimmFixtures.read(TimmFixtures.dir("images").resolve("gradient-preprocessed.safetensors")).get("pixel_values").toFloatArray();
        assertArrayEquals(expected, pixels);
    }

    @Test
    void aTallImageWithBilinearResizeEqualsPilBitForBit() {
        RgbImage image = RgbImage.read(TimmFixtures.dir("images").resolve("gradient-tall.png"));
        assertEquals(38, image.width());
        PretrainedConfig resnetCfg = TimmConfig.from(ModelConfig.read(TimmFixtures.dir("resnet-tiny").resolve("config.json"))).pretrained();
        assertEquals("bilinear", resnetCfg.interpolation());
        float[] expected = TimmFixtures.read(TimmFixtures.dir("images").resolve("gradient-tall-bilinear-preprocessed.safetensors"))
                .get("pixel_values").toFloatArray();
        assertArrayEquals(expected, EvalTransform.apply(image, resnetCfg));
    }

    @Test
    void classifyingThePreprocessedImageMatchesPyTorch() {
        float[] pixels = EvalTransform.apply(RgbImage.read(TimmFixtures.dir("images").resolve("gradient.png")), vitTinyCfg());
        float[] expected = TimmFixtures.read(TimmFixtures.dir("images").resolve("gradient-vit-tiny-logits.safetensors")).get("logits").toFloatArray();
        try (LoadedModel m = QLoad.load(TimmFixtures.dir("vit-tiny"), LoadOptions.defaults())) {
            float[] logits = ImageClassification.of(m, Kernels.get()).logits(Tensor.ofFloats(Shape.of(1, 3, 32, 32), pixels), "gradient.png");
            assertTrue(TimmFixtures.maxAbsDiff(logits, expected) <= TimmForwardTest.TOLERANCE);
        }
    }

    @Test
    void resizingToTheSameSizeKeepsThePixels() {
        int[] px = new int[5 * 4 * 3];
        for (int i = 0; i < px.length; i++) px[i] = (i * 37) % 256;
        for (PilResample.Filter f : PilResample.Filter.values()) assertArrayEquals(px, PilResample.resize(px, 5, 4, 3, 5, 4, f), f.name());
    }

    @Test
    void aConstantImageStaysConstantUnderEveryFilter() {
        int[] px = new int[13 * 7 * 3];
        java.util.Arrays.fill(px, 200);
        for (PilResample.Filter f : PilResample.Filter.values()) {
            for (int v : PilResample.resize(px, 13, 7, 3, 5, 11, f)) assertEquals(200, v, f.name());
        }
    }

    @Test
    void aFileThatIsNotAnImageIsInvalidInputNamingIt() throws Exception {
        Path notImage = TimmFixtures.dir("vit-tiny").resolve("config.json");
        QLoadException e = assertThrows(QLoadException.class, () -> RgbImage.read(notImage));
        assertEquals(ErrorId.INVALID_INPUT, e.id());
        assertTrue(e.getMessage().contains("config.json"), e.getMessage());
    }
}
