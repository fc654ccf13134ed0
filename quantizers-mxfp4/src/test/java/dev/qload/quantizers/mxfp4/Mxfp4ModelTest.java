package dev.qload.quantizers.mxfp4;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.qload.core.checkpoint.Checkpoint;
import dev.qload.core.kernel.Kernels;
import dev.qload.core.load.LoadOptions;
import dev.qload.core.load.LoadedModel;
import dev.qload.core.load.ModelSaver;
import dev.qload.core.load.Loader;
import dev.qload.core.load.ModelSaver;
import dev.qload.core.module.Module;
import dev.qload.core.nn.Linear;
import dev.qload.core.plugin.Plugins;
import dev.qload.core.safetensors.TensorInfo;
import dev.qload.core.tensor.DType;
import dev.qload.core.tensor.Shape;
import dev.qload.models.gptoss.GptOssArchitecture;
import dev.qload.models.gptoss.GptOssExperts;
import dev.qload.models.gptoss.GptOssForCausalLM;
import dev.qload.models.gptoss.GptOssInference;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The tiny GPT-OSS of testdata/mxfp4 (MXFP4 experts as gpt-oss ships them) and its BF16 twin, run
 * through every path transformers offers, against the logits of tools/fixtures/mxfp4/tiny_gpt_oss.py.
 * Every path computes in F32 on the same expert values (decoding is exact, and re-quantizing the
 * dequantized values gives them back), so one bound, 1e-4 on O(1) logits, covers summation order.
 */
class Mxfp4ModelTest {
    static final float TOLERANCE = 1e-4f;
    static final Path MXFP4 = Mxfp4Fixtures.mxfp4("tiny-gpt-oss");
    static final Path BF16 = Mxfp4Fixtures.mxfp4("tiny-gpt-oss-bf16");
    static final List<String> EXPERTS = List.of("model.layers.0.mlp.experts", "model.layers.1.mlp.experts");

    static Loader loader() {
        return new Loader(new Plugins(List.of(new Mxfp4QuantizerProvider()), List.of(new GptOssArchitecture())));
    }

    static float[] reference(String tensor) {
        return Mxfp4Fixtures.floats("tiny-gpt-oss/reference.safetensors", tensor);
    }

    static float[] logits(LoadedModel model) {
        float[] ids = reference("input_ids");
        int[] tokens = new int[ids.length];
        for (int i = 0; i < ids.length; i++) tokens[i] = (int) ids[i];
        return new GptOssInference((GptOssForCausalLM) model.root(), Kernels.get(), 32).forward(tokens);
    }

    static float logitError(LoadedModel model, String path) {
        float[] expected = reference("logits"), actual = logits(model);
        float max = 0;
        for (int i = 0; i < expected.length; i++) max = Math.max(max, Math.abs(expected[i] - actual[i]));
        System.out.printf("tiny-gpt-oss %-34s max |logit error| %.3g%n", path, max);
        assertTrue(max <= TOLERANCE, path + ": max abs logit error " + max);
        return max;
    }

    /** The dense experts equal convert_moe_packed_tensors' output bit for bit. */
    static void assertDequantizedExperts(Module root) {
        for (String path : EXPERTS) {
            GptOssExperts dense = assertInstanceOf(GptOssExperts.class, root.find(path));
            for (String proj : List.of("gate_up_proj", "down_proj")) {
                assertArrayEquals(Mxfp4FormatTest.bits(reference("dequantized." + path + "." + proj)),
                        Mxfp4FormatTest.bits(dense.slot(proj).get().toFloatArray()), path + "." + proj);
            }
        }
    }

    static Path withConfig(Path source, Path target, String from, String to) throws IOException {
        Files.createDirectories(target);
        Files.copy(source.resolve(Checkpoint.SINGLE_FILE), target.resolve(Checkpoint.SINGLE_FILE));
        String config = Files.readString(source.resolve(Checkpoint.CONFIG));
        assertTrue(config.contains(from), from);
        Files.writeString(target.resolve(Checkpoint.CONFIG), config.replace(from, to));
        return target;
    }

    @Test
    void theShippedMxfp4CheckpointLoadsZeroCopyAndRunsFromMxfp4() {
        try (LoadedModel model = loader().load(MXFP4, LoadOptions.defaults())) {
            for (String path : EXPERTS) {
                Mxfp4Experts experts = assertInstanceOf(Mxfp4Experts.class, model.root().find(path));
                assertTrue(experts.slot("gate_up_proj_blocks").get().data().isMapped(), "blocks stay in the mapping");
            }
            assertInstanceOf(Linear.class, model.root().find("model.layers.0.mlp.router"), "modules_to_not_convert keeps the router");
            assertInstanceOf(Linear.class, model.root().find("model.layers.1.self_attn.q_proj"));
            assertTrue(model.report().bytesMapped() > 0);
            logitError(model, "MXFP4 kept (pre-quantized)");
        }
    }

    @Test
    void dequantizeTrueDecodesTheExpertsWhileLoading(@TempDir Path dir) throws IOException {
        Path dequantize = withConfig(MXFP4, dir.resolve("dequantize"), "\"quant_method\": \"mxfp4\"", "\"dequantize\": true, \"quant_method\": \"mxfp4\"");
        try (LoadedModel model = loader().load(dequantize, LoadOptions.defaults())) {
            assertDequantizedExperts(model.root());
            assertEquals(DType.BF16, ((GptOssExperts) model.root().find(EXPERTS.getFirst())).slot("gate_up_proj").get().dtype());
            logitError(model, "dequantize: true (dense BF16 experts)");
            // As transformers' save_pretrained after Mxfp4Config(dequantize=True): a plain dense checkpoint.
            ModelSaver.save(model, dir.resolve("saved"), Long.MAX_VALUE);
        }
        assertTrue(!Files.readString(dir.resolve("saved").resolve(Checkpoint.CONFIG)).contains("quantization_config"), "saved dense");
        try (LoadedModel saved = loader().load(dir.resolve("saved"), LoadOptions.defaults())) {
            assertTrue(saved.quantizer().isEmpty());
            assertDequantizedExperts(saved.root());
            logitError(saved, "dequantize: true, saved, reloaded");
        }
    }

    @Test
    void dequantizingALoadedMxfp4ModelGivesTheReferenceExperts() {
        try (LoadedModel model = loader().load(MXFP4, LoadOptions.defaults())) {
            model.quantizer().orElseThrow().dequantize(model.root());
            assertDequantizedExperts(model.root());
            logitError(model, "MXFP4 loaded, then dequantize()");
        }
    }

    @Test
    void theBf16CheckpointRunsDenseAndQuantizesOnLoadToTheSameValues(@TempDir Path dir) {
        try (LoadedModel dense = loader().load(BF16, LoadOptions.defaults())) {
            assertInstanceOf(GptOssExperts.class, dense.root().find(EXPERTS.getFirst()));
            logitError(dense, "BF16 dense experts");
        }
        Path saved = dir.resolve("saved");
        try (LoadedModel quantized = loader().load(BF16, LoadOptions.builder().quantize("mxfp4", Map.of()).build())) {
            assertInstanceOf(Mxfp4Experts.class, quantized.root().find(EXPERTS.getFirst()));
            logitError(quantized, "BF16 quantized on load to MXFP4");
            ModelSaver.save(quantized, saved, Long.MAX_VALUE);
        }
        try (Checkpoint ckpt = Checkpoint.open(saved)) {
            TensorInfo blocks = ckpt.tensors().get("model.layers.0.mlp.experts.gate_up_proj_blocks").info();
            TensorInfo scales = ckpt.tensors().get("model.layers.0.mlp.experts.down_proj_scales").info();
            assertEquals(Shape.of(4, 64, 2, 16), blocks.shape(), "the shipped layout [E, 2I, H/32, 16]");
            assertEquals(DType.U8, blocks.dtype());
            assertEquals(Shape.of(4, 64, 1), scales.shape(), "the shipped layout [E, H, I/32]");
        }
        try (LoadedModel reloaded = loader().load(saved, LoadOptions.defaults())) {
            assertInstanceOf(Mxfp4Experts.class, reloaded.root().find(EXPERTS.getFirst()));
            reloaded.quantizer().orElseThrow().dequantize(reloaded.root());
            assertDequantizedExperts(reloaded.root());
        }
    }

    @Test
    void gptOssWildcardPatternsKeepAttentionAndRouterAndAPatternCanKeepExpertsDense() {
        Mxfp4Config shipped = Mxfp4Config.from(dev.qload.core.load.LoadOptions.builder().quantize("f", Map.of("modules_to_not_convert",
                List.of("model.layers.*.self_attn", "model.layers.*.mlp.router", "model.embed_tokens", "lm_head"))).build().quantizeFields());
        assertTrue(shipped.skips("model.layers.17.self_attn"));
        assertTrue(shipped.skips("model.layers.3.mlp.router"));
        assertTrue(shipped.skips("lm_head"));
        assertTrue(!shipped.skips("model.layers.3.mlp.experts"));
        try (LoadedModel model = loader().load(BF16, LoadOptions.builder().quantize("mxfp4",
                Map.of("modules_to_not_convert", List.of("model.layers.1.mlp"))).build())) {
            assertInstanceOf(Mxfp4Experts.class, model.root().find(EXPERTS.get(0)));
            assertInstanceOf(GptOssExperts.class, model.root().find(EXPERTS.get(1)));
            logitError(model, "BF16, layer 0 quantized, layer 1 kept");
        }
    }
}
