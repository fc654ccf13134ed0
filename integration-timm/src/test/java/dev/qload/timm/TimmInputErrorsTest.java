package dev.qload.timm;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.qload.core.QLoad;
import dev.qload.core.error.ErrorId;
import dev.qload.core.error.QLoadException;
import dev.qload.core.kernel.Kernels;
import dev.qload.core.load.LoadOptions;
import dev.qload.core.load.LoadedModel;
import dev.qload.core.tensor.OffHeap;
import dev.qload.core.tensor.Shape;
import dev.qload.core.tensor.Tensor;
import dev.qload.tests.CheckpointEdits;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.function.UnaryOperator;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Bad configs, checkpoints and inputs: a typed error naming the file, the tensor or the shape; nothing leaked. */
class TimmInputErrorsTest {
    @TempDir
    Path tmp;

    private Path withConfig(String model, UnaryOperator<String> edit) throws IOException {
        Path dir = CheckpointEdits.rewrite(TimmFixtures.dir(model), tmp.resolve(model), t -> { });
        Path config = dir.resolve("config.json");
        Files.writeString(config, edit.apply(Files.readString(config)));
        return dir;
    }

    private static QLoadException loadFails(Path dir) {
        long live = OffHeap.liveBytes();
        QLoadException e = assertThrows(QLoadException.class, () -> QLoad.load(dir, LoadOptions.defaults()).close());
        assertEquals(live, OffHeap.liveBytes(), "a failed load frees what it allocated");
        return e;
    }

    @Test
    void unknownArchitectureIsNotSupportedWithTheList() throws IOException {
        QLoadException e = loadFails(withConfig("vit-tiny", c -> c.replace("vit_tiny_patch16_224", "convnext_tiny")));
        assertEquals(ErrorId.NOT_SUPPORTED, e.id());
        assertTrue(e.getMessage().contains("'convnext_tiny'") && e.getMessage().contains("swin_") && e.getMessage().contains("config.json"),
                e.getMessage());
    }

    @Test
    void misspelledModelArgumentGetsAHint() throws IOException {
        QLoadException e = loadFails(withConfig("vit-tiny", c -> c.replace("\"num_heads\"", "\"num_head\"")));
        assertEquals(ErrorId.CONFIG_INVALID, e.id());
        assertTrue(e.getMessage().contains("'num_head'") && e.getMessage().contains("did you mean 'num_heads'"), e.getMessage());
    }

    @Test
    void modelArgumentOfTheWrongTypeIsNamed() throws IOException {
        QLoadException e = loadFails(withConfig("swin-tiny", c -> c.replace("\"window_size\": 4", "\"window_size\": \"four\"")));
        assertEquals(ErrorId.CONFIG_WRONG_TYPE, e.id());
        assertTrue(e.getMessage().contains("'window_size'"), e.getMessage());
    }

    @Test
    void checkpointTensorOfTheWrongShapeIsNamedWithBothShapes() {
        Path dir = CheckpointEdits.rewrite(TimmFixtures.dir("swin-tiny"), tmp.resolve("bad-table"), t -> t.put(
                "layers.0.blocks.1.attn.relative_position_bias_table", Tensor.ofFloats(Shape.of(7, 2), new float[14])));
        QLoadException e = loadFails(dir);
        assertEquals(ErrorId.TENSOR_SHAPE_MISMATCH, e.id());
        assertTrue(e.getMessage().contains("layers.0.blocks.1.attn.relative_position_bias_table") && e.getMessage().contains("[49, 2]")
                && e.getMessage().contains("[7, 2]"), e.getMessage());
    }

    @Test
    void pixelValuesOfTheWrongShapeAreInvalidInput() {
        try (LoadedModel m = QLoad.load(TimmFixtures.dir("vit-tiny"), LoadOptions.defaults())) {
            ImageClassification run = ImageClassification.of(m, Kernels.get());
            QLoadException e = assertThrows(QLoadException.class, () -> run.logits(Tensor.ofFloats(Shape.of(1, 3, 16, 16), new float[768]), "x.safetensors"));
            assertEquals(ErrorId.INVALID_INPUT, e.id());
            assertTrue(e.getMessage().contains("x.safetensors") && e.getMessage().contains("[1, 3, 16, 16]")
                    && e.getMessage().contains("[batch, 3, 32, 32]"), e.getMessage());
        }
    }

    @Test
    void aSwinMapThatIsNotWholeWindowsIsRefusedByName() throws IOException {
        // 44 / patch 2 = a 22² map: not a whole number of 4² windows (timm would pad; qload does not).
        QLoadException e = loadFails(withConfig("swin-tiny", c -> c.replace("\"img_size\": 32", "\"img_size\": 44")));
        assertEquals(ErrorId.NOT_SUPPORTED, e.id());
        assertTrue(e.getMessage().contains("'img_size'") && e.getMessage().contains("22² map") && e.getMessage().contains("config.json"), e.getMessage());
    }

    @Test
    void aBackboneWithoutClassifierIsRefused() throws IOException {
        QLoadException e = loadFails(withConfig("vit-tiny", c -> c.replace("\"num_classes\": 10,\n  \"num_features\"", "\"num_classes\": 0,\n  \"num_features\"")));
        assertEquals(ErrorId.NOT_SUPPORTED, e.id());
        assertTrue(e.getMessage().contains("num_classes 0"), e.getMessage());
    }
}
