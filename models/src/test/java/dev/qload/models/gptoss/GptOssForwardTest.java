package dev.qload.models.gptoss;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.qload.core.QLoad;
import dev.qload.core.config.ModelConfig;
import dev.qload.core.error.ConfigException;
import dev.qload.core.error.ErrorId;
import dev.qload.core.kernel.Kernels;
import dev.qload.core.load.LoadOptions;
import dev.qload.core.load.LoadedModel;
import dev.qload.core.safetensors.SafetensorsFile;
import dev.qload.core.tensor.DType;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The tiny GPT-OSS with dense BF16 experts (testdata/mxfp4/tiny-gpt-oss-bf16, made by
 * tools/fixtures/mxfp4/make_bf16_variant.py) against the PyTorch reference of
 * tools/fixtures/mxfp4/tiny_gpt_oss.py (modeling_gpt_oss.py's semantics: sinks, sliding and full
 * layers, YaRN, top-2 routing, interleaved clamped SwiGLU). Both sides compute in F32 on the same
 * BF16-widened weights; what is left is summation order and {@code exp}, so the logits (O(1)) are
 * held to 1e-4, and the router logits and residual stream with them.
 */
class GptOssForwardTest {
    static final float TOLERANCE = 1e-4f;

    static Path fixture() {
        String root = System.getProperty("qload.repo.root");
        Path base = (root != null ? Path.of(root) : Path.of("..").toAbsolutePath().normalize()).resolve("testdata");
        return base.resolve("mxfp4").resolve("tiny-gpt-oss-bf16");
    }

    static float[] reference(String tensor) {
        try (SafetensorsFile ref = SafetensorsFile.open(fixture().resolve("reference.safetensors"))) {
            return ref.tensor(tensor).toFloatArray();
        }
    }

    static int[] inputIds() {
        float[] ids = reference("input_ids");
        int[] out = new int[ids.length];
        for (int i = 0; i < ids.length; i++) out[i] = (int) ids[i];
        return out;
    }

    static float maxAbsError(float[] a, float[] b) {
        assertEquals(a.length, b.length);
        float max = 0;
        for (int i = 0; i < a.length; i++) max = Math.max(max, Math.abs(a[i] - b[i]));
        return max;
    }

    @Test
    void logitsAndRouterLogitsMatchThePyTorchReference() {
        try (LoadedModel model = QLoad.load(fixture())) {
            assertInstanceOf(GptOssForCausalLM.class, model.root());
            for (Kernels kernels : new Kernels[] {Kernels.scalar(), Kernels.get()}) {
                GptOssInference inference = new GptOssInference((GptOssForCausalLM) model.root(), kernels, 32);
                float error = maxAbsError(reference("logits"), inference.forward(inputIds()));
                System.out.printf("tiny-gpt-oss-bf16 %-10s max |logit error| %.3g%n", kernels.name(), error);
                assertTrue(error <= TOLERANCE, kernels.name() + ": max abs logit error " + error);
                for (int layer = 0; layer < 2; layer++) {
                    float routerError = maxAbsError(reference("router_logits." + layer), inference.lastRouterLogits(layer));
                    assertTrue(routerError <= TOLERANCE, "layer " + layer + " router logits off by " + routerError);
                }
            }
        }
    }

    @Test
    void decodingTokenByTokenWithTheCacheEqualsTheFullForward() {
        try (LoadedModel model = QLoad.load(fixture())) {
            GptOssInference inference = new GptOssInference((GptOssForCausalLM) model.root(), Kernels.get(), 32);
            int[] ids = inputIds();
            float[] full = inference.forward(ids);
            inference.forward(new int[] {ids[0]});
            int vocab = inference.vocabSize();
            for (int t = 1; t < ids.length; t++) {
                float[] step = inference.append(new int[] {ids[t]}, false);
                float[] expected = Arrays.copyOfRange(full, t * vocab, (t + 1) * vocab);
                assertTrue(maxAbsError(expected, step) <= 1e-5f, "position " + t);
            }
        }
    }

    @Test
    void convertingToF32OnLoadGivesTheSameLogits() {
        try (LoadedModel bf16 = QLoad.load(fixture());
             LoadedModel f32 = QLoad.load(fixture(), LoadOptions.builder().dtype(DType.F32).build())) {
            float[] a = new GptOssInference((GptOssForCausalLM) bf16.root(), Kernels.scalar(), 16).forward(inputIds());
            float[] b = new GptOssInference((GptOssForCausalLM) f32.root(), Kernels.scalar(), 16).forward(inputIds());
            assertArrayEquals(a, b, 0f);
        }
    }

    @Test
    void layerTypesGiveEachLayerItsWindowAndTheDefaultAlternates(@TempDir Path dir) throws Exception {
        String config = Files.readString(fixture().resolve("config.json"));
        GptOssConfig declared = GptOssConfig.from(ModelConfig.parse(fixture().resolve("config.json"), config.getBytes()));
        assertArrayEquals(new int[] {4, 0}, declared.slidingWindows());
        String withoutTypes = config.replaceAll("\"layer_types\": \\[[^\\]]*\\],", "");
        GptOssConfig defaulted = GptOssConfig.from(ModelConfig.parse(dir.resolve("config.json"), withoutTypes.getBytes()));
        assertArrayEquals(new int[] {4, 0}, defaulted.slidingWindows(), "GptOssConfig's default: sliding on even layers");
        String unknown = config.replace("\"full_attention\"", "\"chunked_attention\"");
        ConfigException e = assertThrows(ConfigException.class,
                () -> GptOssConfig.from(ModelConfig.parse(dir.resolve("config.json"), unknown.getBytes())));
        assertEquals(ErrorId.CONFIG_INVALID, e.id());
        assertTrue(e.getMessage().contains("layer_types[1]"), e.getMessage());
        String nullWindow = config.replaceAll("\"sliding_window\": \\d+", "\"sliding_window\": null");
        assertTrue(nullWindow.contains("\"sliding_window\": null"), "the fixture's config has a sliding_window to null");
        ConfigException noWindow = assertThrows(ConfigException.class,
                () -> GptOssConfig.from(ModelConfig.parse(dir.resolve("config.json"), nullWindow.getBytes())));
        assertTrue(noWindow.getMessage().contains("layer 0 is sliding_attention but 'sliding_window' is null"), noWindow.getMessage());
    }
}
