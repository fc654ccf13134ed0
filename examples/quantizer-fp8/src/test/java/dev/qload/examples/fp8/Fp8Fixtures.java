package dev.qload.examples.fp8;

import dev.qload.core.config.Json;
import dev.qload.core.kernel.Kernels;
import dev.qload.core.load.Loader;
import dev.qload.core.plugin.Plugins;
import dev.qload.core.safetensors.SafetensorsFile;
import dev.qload.core.tensor.Tensor;
import dev.qload.models.llama.LlamaArchitecture;
import dev.qload.models.llama.LlamaForCausalLM;
import dev.qload.models.llama.LlamaInference;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.foreign.ValueLayout;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import tools.jackson.databind.JsonNode;

/**
 * The test resources under {@code fp8/}: a copy of testdata/fp8 made by
 * tools/fixtures/fp8/make_fp8_fixtures.py (an independent PyTorch reference), plus the dense
 * testdata/tiny-llama it quantizes, so this example builds on its own.
 */
final class Fp8Fixtures {
    private Fp8Fixtures() {}

    static Path dir() {
        try {
            return Path.of(Fp8Fixtures.class.getResource("/fp8/index.json").toURI()).getParent();
        } catch (URISyntaxException e) {
            throw new IllegalStateException(e);
        }
    }

    static Path file(String name) {
        return dir().resolve(name);
    }

    static JsonNode index() {
        try {
            return Json.STRICT.readTree(Files.readAllBytes(file("index.json")));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Only this plugin and the Llama architecture: what the tests load with. */
    static Loader loader() {
        return new Loader(new Plugins(List.of(new Fp8QuantizerProvider()), List.of(new LlamaArchitecture())));
    }

    static int[] inputIds() {
        try (SafetensorsFile ref = SafetensorsFile.open(file("tiny-llama-fp8-reference/reference.safetensors"))) {
            float[] ids = ref.tensor("input_ids").toFloatArray();
            int[] out = new int[ids.length];
            for (int i = 0; i < ids.length; i++) out[i] = (int) ids[i];
            return out;
        }
    }

    static float[] referenceLogits() {
        try (SafetensorsFile ref = SafetensorsFile.open(file("tiny-llama-fp8-reference/reference.safetensors"))) {
            return ref.tensor("logits_dequantized").toFloatArray();
        }
    }

    static float[] logits(dev.qload.core.module.Module root, Kernels kernels) {
        return new LlamaInference((LlamaForCausalLM) root, kernels, 64).forward(inputIds());
    }

    static float maxAbsError(float[] a, float[] b) {
        if (a.length != b.length) throw new AssertionError("lengths " + a.length + " vs " + b.length);
        float max = 0;
        for (int i = 0; i < a.length; i++) max = Math.max(max, Math.abs(a[i] - b[i]));
        return max;
    }

    /** Bytes of a tensor of any dtype (F8_E4M3 included, which Tensor.getFloat does not read). */
    static byte[] bytes(Tensor t) {
        return t.data().toArray(ValueLayout.JAVA_BYTE);
    }
}
