package dev.qload.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.qload.cli.CliTest.Result;
import dev.qload.core.config.ModelConfig;
import dev.qload.core.safetensors.SafetensorsFile;
import dev.qload.timm.TimmConfig;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Comparator;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code qload classify} and {@code qload forward --pixel-values} on the timm fixtures (testdata/timm, made with PyTorch). */
class TimmCliTest {
    private static Path timm(String name) {
        return CliTest.testdata("timm").resolve(name);
    }

    private static float[] logits(Path file) {
        try (SafetensorsFile f = SafetensorsFile.open(file)) {
            return f.tensor("logits").toFloatArray();
        }
    }

    @Test
    void forwardWritesImageLogitsThatMatchPyTorch(@TempDir Path tmp) {
        Path out = tmp.resolve("logits.safetensors");
        Result r = CliTest.run("forward", timm("swin-tiny").toString(), "--pixel-values",
                timm("swin-tiny-reference").resolve("pixel_values.safetensors").toString(), "--out", out.toString());
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().contains("2 images") && r.out().contains("image 1: top 5 of 10 classes"), r.out());
        try (SafetensorsFile f = SafetensorsFile.open(out)) {
            assertEquals("[2, 10]", f.info("logits").shape().toString());
        }
        float[] got = logits(out), want = logits(timm("swin-tiny-reference").resolve("logits.safetensors"));
        for (int i = 0; i < want.length; i++) assertEquals(want[i], got[i], 1e-4, "logit " + i);
    }

    @Test
    void classifyPrintsTheTopFiveInPyTorchsOrderWithLabels() {
        Result r = CliTest.run("classify", timm("vit-tiny-wrapper").toString(), timm("images").resolve("gradient.png").toString());
        assertEquals(0, r.code(), r.err());
        float[] want = logits(timm("images").resolve("gradient-vit-tiny-logits.safetensors"));
        int[] order = IntStream.range(0, want.length).boxed().sorted(Comparator.comparingDouble(i -> -want[i])).mapToInt(i -> i).toArray();
        String[] lines = r.out().lines().filter(l -> l.matches("\\s+\\d\\. class.*")).toArray(String[]::new);
        assertEquals(5, lines.length, r.out());
        for (int rank = 0; rank < 5; rank++) {
            assertTrue(lines[rank].contains("class " + String.format("%5d", order[rank])), rank + ": " + Arrays.toString(lines));
        }
        var labels = TimmConfig.from(ModelConfig.read(timm("vit-tiny-wrapper").resolve("config.json"))).labels();
        for (int rank = 0; rank < 5; rank++) assertTrue(lines[rank].endsWith("  " + labels.get(order[rank])), lines[rank]);
        assertTrue(r.out().contains("vit_tiny_patch16_224 at 32×32 (bicubic, crop_pct 0.875)"), r.out());
    }

    @Test
    void classifyOfAMissingImageIsOneLine() {
        Result r = CliTest.run("classify", timm("vit-tiny").toString(), "/nonexistent/cat.png");
        assertEquals(Main.EXIT_BAD_INPUT, r.code());
        assertEquals(1, r.err().lines().count(), r.err());
        assertTrue(r.err().startsWith("qload: [qload/InvalidInput] ") && r.err().contains("/nonexistent/cat.png"), r.err());
    }

    @Test
    void pixelValuesOfAnotherSizeAreRefusedWithTheExpectedShape() {
        Result r = CliTest.run("forward", timm("vit-tiny").toString(), "--pixel-values",
                timm("eva02-tiny-reference").resolve("pixel_values.safetensors").toString());
        assertEquals(Main.EXIT_BAD_INPUT, r.code());
        assertEquals(1, r.err().lines().count(), r.err());
        assertTrue(r.err().contains("[qload/InvalidInput]") && r.err().contains("[2, 3, 28, 28]") && r.err().contains("[batch, 3, 32, 32]"), r.err());
    }

    @Test
    void aFileWithoutPixelValuesIsNamed() {
        Path file = timm("vit-tiny-reference").resolve("logits.safetensors");
        Result r = CliTest.run("forward", timm("vit-tiny").toString(), "--pixel-values", file.toString());
        assertEquals(Main.EXIT_BAD_INPUT, r.code());
        assertTrue(r.err().contains("'pixel_values'") && r.err().contains("logits.safetensors"), r.err());
    }

    @Test
    void forwardNeedsExactlyOneInput() {
        Result none = CliTest.run("forward", timm("vit-tiny").toString());
        assertEquals(Main.EXIT_BAD_INPUT, none.code());
        assertTrue(none.err().contains("exactly one of --input-ids"), none.err());
    }

    @Test
    void inspectNamesTheTimmArchitectureAndProvider() {
        Result r = CliTest.run("inspect", timm("resnet50-tiny").toString());
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().contains("architecture  resnet50 (model_type -)") && r.out().contains("provider      timm"), r.out());
    }

    @Test
    void classifyingWithALanguageModelIsNotSupported() {
        Result r = CliTest.run("classify", CliTest.testdata("tiny-llama").toString(), timm("images").resolve("gradient.png").toString());
        assertEquals(Main.EXIT_BAD_INPUT, r.code());
        assertTrue(r.err().startsWith("qload: [qload/NotSupported] LlamaForCausalLM is not an image classifier"), r.err());
    }
}
