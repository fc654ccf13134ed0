package dev.qload.models.llama;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.qload.core.QLoad;
import dev.qload.core.kernel.Kernels;
import dev.qload.core.load.LoadOptions;
import dev.qload.core.load.LoadedModel;
import dev.qload.core.safetensors.SafetensorsFile;
import dev.qload.core.tensor.DType;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Logits of the loaded fixtures against the PyTorch reference (tools/fixtures/tiny_llama.py, which
 * follows modeling_llama.py). The reference runs in F32 on the stored weights widened to F32, and
 * so does qload, whatever the checkpoint dtype: the only differences are summation order and
 * fused multiply-adds, a few F32 ulps per dot product, so one bound, 1e-4, serves F32, BF16 and
 * F16 checkpoints alike (the logits are O(1)).
 */
class LlamaForwardTest {
    static final float TOLERANCE = 1e-4f;

    static float[] reference(String name, String tensor) {
        try (SafetensorsFile ref = SafetensorsFile.open(TestData.dir(name + "-reference").resolve("reference.safetensors"))) {
            return ref.tensor(tensor).toFloatArray();
        }
    }

    static int[] inputIds(String name) {
        float[] ids = reference(name, "input_ids");
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

    @ParameterizedTest
    @ValueSource(strings = {"tiny-llama", "tiny-llama-sharded", "tiny-qwen2", "tiny-mistral", "demo-llama",
            "tiny-llama-rope-linear", "tiny-llama-rope-dynamic", "tiny-llama-rope-llama3", "tiny-llama-rope-yarn",
            "tiny-llama-attn-bias", "tiny-llama-tied-both", "tiny-llama-f16-sharded"})
    void logitsMatchThePyTorchReference(String name) {
        try (LoadedModel model = QLoad.load(TestData.dir(name))) {
            int[] ids = inputIds(name);
            for (Kernels kernels : new Kernels[] {Kernels.scalar(), Kernels.get()}) {
                LlamaInference inference = new LlamaInference((LlamaForCausalLM) model.root(), kernels, 64);
                float[] logits = inference.forward(ids);
                float error = maxAbsError(reference(name, "logits"), logits);
                System.out.printf("%-24s %-10s %-6s max |logit error| %.3g%n", name, kernels.name(), model.report().dtype(), error);
                assertTrue(error <= TOLERANCE, name + " with " + kernels.name() + ": max abs logit error " + error);
            }
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"tiny-llama", "tiny-mistral", "tiny-qwen2"})
    void decodingTokenByTokenWithTheCacheEqualsTheFullForward(String name) {
        try (LoadedModel model = QLoad.load(TestData.dir(name))) {
            int[] ids = inputIds(name);
            LlamaInference inference = new LlamaInference((LlamaForCausalLM) model.root(), Kernels.get(), 64);
            float[] full = inference.forward(ids);
            inference.reset();
            int vocab = inference.config().vocabSize();
            for (int t = 0; t < ids.length; t++) {
                float[] step = inference.append(new int[] {ids[t]}, false);
                float[] expected = java.util.Arrays.copyOfRange(full, t * vocab, (t + 1) * vocab);
                assertTrue(maxAbsError(expected, step) <= 1e-5f, name + " position " + t);
            }
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"tiny-llama-sharded"})
    void convertingBf16WeightsToF32OnLoadGivesTheSameLogits(String name) {
        // BF16 → F32 is exact, so the converted model must compute what the BF16 one does.
        try (LoadedModel bf16 = QLoad.load(TestData.dir(name));
             LoadedModel f32 = QLoad.load(TestData.dir(name), LoadOptions.builder().dtype(DType.F32).build())) {
            int[] ids = inputIds(name);
            float[] a = new LlamaInference((LlamaForCausalLM) bf16.root(), Kernels.scalar(), 16).forward(ids);
            float[] b = new LlamaInference((LlamaForCausalLM) f32.root(), Kernels.scalar(), 16).forward(ids);
            assertArrayEquals(a, b, 0f);
        }
    }
}
