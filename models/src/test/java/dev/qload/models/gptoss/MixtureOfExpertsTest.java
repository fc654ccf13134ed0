package dev.qload.models.gptoss;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.qload.core.kernel.Kernels;
import dev.qload.core.nn.Linear;
import dev.qload.core.safetensors.SafetensorsFile;
import dev.qload.core.tensor.DType;
import dev.qload.core.tensor.Tensor;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

/**
 * One gpt-oss MLP block (testdata/mxfp4/experts-mlp.safetensors: 4 experts, top-2, H = 64, I = 32,
 * 3 tokens) against tools/fixtures/mxfp4's float32 reference of GptOssTopKRouter and
 * GptOssExperts.forward: router logits, and the routed, weighted sum of the clamped-SwiGLU experts.
 * The experts are the reference's dense (dequantized) weights, so only the model's arithmetic is
 * under test here; the reference allows ~1e-5 relative for summation order.
 */
class MixtureOfExpertsTest {
    static Tensor copy(SafetensorsFile f, String name) {
        Tensor t = f.tensor(name);
        Tensor out = Tensor.allocate(t.shape(), t.dtype(), Arena.ofAuto());
        MemorySegment.copy(t.data(), 0, out.data(), 0, t.byteSize());
        return out;
    }

    @Test
    void routingAndExpertsMatchTheReferenceBlock() {
        Path file = GptOssForwardTest.fixture().resolveSibling("experts-mlp.safetensors");
        try (SafetensorsFile f = SafetensorsFile.open(file)) {
            String p = "model.layers.0.mlp.";
            GptOssExperts experts = new GptOssExperts(4, 64, 32, DType.F32);
            experts.slot("gate_up_proj").set(copy(f, "ref.gate_up_proj"));
            experts.slot("down_proj").set(copy(f, "ref.down_proj"));
            experts.slot("gate_up_proj_bias").set(copy(f, p + "experts.gate_up_proj_bias"));
            experts.slot("down_proj_bias").set(copy(f, p + "experts.down_proj_bias"));
            Linear router = new Linear(64, 4, true, DType.F32);
            router.slot("weight").set(copy(f, p + "router.weight"));
            router.slot("bias").set(copy(f, p + "router.bias"));
            MixtureOfExperts moe = new MixtureOfExperts(router, experts, 2, 7.0f);
            float[] x = f.tensor("ref.x").toFloatArray(), out = new float[x.length];
            moe.forward(Kernels.scalar(), x, 3, out);
            float[] logits = f.tensor("ref.router_logits").toFloatArray(), routed = moe.lastRouterLogits();
            for (int i = 0; i < logits.length; i++) assertEquals(logits[i], routed[i], 1e-5f * Math.max(1, Math.abs(logits[i])), "router logit " + i);
            float[] expected = f.tensor("ref.out").toFloatArray();
            float max = 0;
            for (int i = 0; i < expected.length; i++) {
                assertEquals(expected[i], out[i], 1e-5f * Math.max(1, Math.abs(expected[i])), "output " + i);
                max = Math.max(max, Math.abs(expected[i] - out[i]));
            }
            System.out.printf("experts-mlp max |output error| %.3g%n", max);
        }
    }
}
