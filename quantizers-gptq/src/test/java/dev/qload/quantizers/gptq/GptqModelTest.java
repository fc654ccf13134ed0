package dev.qload.quantizers.gptq;

import dev.qload.tests.CheckpointEdits;
import dev.qload.tests.LoadFailures;

import static dev.qload.tests.LoadFailures.problemFor;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.qload.core.error.ErrorId;
import dev.qload.core.error.PluginException;
import dev.qload.core.error.Problem;
import dev.qload.core.error.QLoadException;
import dev.qload.core.kernel.Kernels;
import dev.qload.core.load.LoadOptions;
import dev.qload.core.load.LoadReport;
import dev.qload.core.load.LoadedModel;
import dev.qload.core.load.Loader;
import dev.qload.core.module.Module;
import dev.qload.core.module.NamedSlot;
import dev.qload.core.nn.Linear;
import dev.qload.core.plugin.Plugins;
import dev.qload.core.safetensors.SafetensorsFile;
import dev.qload.core.spi.Capability;
import dev.qload.core.spi.Quantizer;
import dev.qload.core.tensor.DType;
import dev.qload.core.tensor.OffHeap;
import dev.qload.core.tensor.Shape;
import dev.qload.core.tensor.Tensor;
import dev.qload.models.llama.LlamaArchitecture;
import dev.qload.models.llama.LlamaForCausalLM;
import dev.qload.models.llama.LlamaInference;
import java.lang.foreign.Arena;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import tools.jackson.databind.JsonNode;

/**
 * The tiny GPTQ Llama of testdata/gptq (4-bit, group 32, sym, v1; attention projections quantized,
 * MLP dense F16) loaded zero-copy and run against gptq_ref's logits of the dequantized model.
 */
class GptqModelTest {
    static final String FIXTURE = "tiny-llama-gptq";
    /**
     * Both sides run an F32 forward on identical F32 weight values (GptqFormatTest proves the
     * dequantization bit for bit); what is left is summation order in dot products of length ≤ 172.
     */
    static final float LOGIT_TOLERANCE = 1e-4f;
    /** Two runs over identical weights give identical logits, however warm the JIT (VectorKernels.exp is deterministic). */
    static final float SAME_WEIGHTS = 0f;

    static Loader loader() {
        return new Loader(new Plugins(List.of(new GptqQuantizerProvider()), List.of(new LlamaArchitecture())));
    }

    static LoadedModel load(Path dir) {
        return loader().load(dir, LoadOptions.defaults());
    }

    static float[] reference(String tensor) {
        try (SafetensorsFile ref = SafetensorsFile.open(GptqFixtures.gptq(FIXTURE + "-reference").resolve("reference.safetensors"))) {
            return ref.tensor(tensor).toFloatArray();
        }
    }

    static int[] inputIds() {
        float[] ids = reference("input_ids");
        int[] out = new int[ids.length];
        for (int i = 0; i < ids.length; i++) out[i] = (int) ids[i];
        return out;
    }

    static float[] logits(LoadedModel model) {
        return new LlamaInference((LlamaForCausalLM) model.root(), Kernels.get(), 64).forward(inputIds());
    }

    static float maxAbsError(float[] expected, float[] actual) {
        assertEquals(expected.length, actual.length, "logit count");
        float max = 0;
        for (int i = 0; i < expected.length; i++) {
            float d = Math.abs(expected[i] - actual[i]);
            if (Float.isNaN(d)) return Float.NaN;
            max = Math.max(max, d);
        }
        return max;
    }

    static List<String> quantizedNames() {
        List<String> names = new java.util.ArrayList<>();
        for (JsonNode n : GptqFixtures.index().get("tiny_llama").get("quantized")) names.add(n.asString());
        return names;
    }

    @Test
    void tinyLlamaLoadsZeroCopyWithOnlyTheAttentionQuantized() {
        List<String> quantized = quantizedNames();
        assertEquals(8, quantized.size());
        try (LoadedModel model = load(GptqFixtures.gptq(FIXTURE))) {
            LoadReport report = model.report();
            Module root = model.root();
            assertEquals("gptq", report.quantization());
            assertEquals(0, report.bytesRead(), "bytes read into copies (conversions)");
            assertEquals(List.of(), report.missingKeys());
            assertEquals(List.of(), report.unexpectedKeys());
            assertEquals(List.of(), report.mismatchedKeys());
            int gptq = 0;
            for (var e : root.namedModules().entrySet()) {
                if (quantized.contains(e.getKey())) {
                    GptqLinear g = assertInstanceOf(GptqLinear.class, e.getValue(), e.getKey());
                    assertEquals(4, g.config().bits());
                    gptq++;
                } else {
                    assertFalse(e.getValue() instanceof GptqLinear, e.getKey() + " must stay dense");
                }
            }
            assertEquals(quantized.size(), gptq);
            assertEquals(Linear.class, root.find("model.layers.0.mlp.down_proj").getClass(), "MLP stays dense");
            assertEquals(Linear.class, root.find("lm_head").getClass());
            GptqLinear k = (GptqLinear) root.find("model.layers.0.self_attn.k_proj");
            assertEquals(64, k.inFeatures());
            assertEquals(32, k.outFeatures());
            assertEquals(Shape.of(8, 32), k.slot("qweight").get().shape());
            assertEquals(Shape.of(2, 4), k.slot("qzeros").get().shape());
            assertEquals(DType.F16, k.slot("scales").get().dtype());
            for (NamedSlot ns : root.namedSlots()) assertFalse(ns.slot().get().isMeta(), ns.path() + " left on META");
        }
    }

    @Test
    void logitsMatchTheDequantizedReference() {
        try (LoadedModel model = load(GptqFixtures.gptq(FIXTURE))) {
            float[] actual = logits(model);
            float err = maxAbsError(reference("logits_dequantized"), actual);
            System.out.printf("tiny-llama-gptq logits vs logits_dequantized: max |Δ| %.3g%n", err);
            assertTrue(err <= LOGIT_TOLERANCE, "max |Δ| " + err + " exceeds " + LOGIT_TOLERANCE);
        }
    }

    @Test
    void dequantizedModelKeepsItsLogits() {
        try (LoadedModel model = load(GptqFixtures.gptq(FIXTURE))) {
            float[] quantized = logits(model);
            Quantizer q = model.quantizer().orElseThrow();
            q.dequantize(model.root());
            for (String name : quantizedNames()) {
                Module m = model.root().find(name);
                assertEquals(Linear.class, m.getClass(), name);
                assertEquals(DType.F32, ((Linear) m).weight().dtype(), name);
            }
            float[] dense = logits(model);
            float vsQuantized = maxAbsError(quantized, dense), vsReference = maxAbsError(reference("logits_dequantized"), dense);
            System.out.printf("tiny-llama-gptq dequantized: vs quantized forward %.3g, vs reference %.3g%n", vsQuantized, vsReference);
            assertTrue(vsQuantized <= 1e-5f, "dense vs quantized forward " + vsQuantized);
            assertTrue(vsReference <= LOGIT_TOLERANCE, "dense vs reference " + vsReference);
        }
    }

    @Test
    void savingAPreQuantizedCheckpointWritesItsTensorsBackUnchanged(@org.junit.jupiter.api.io.TempDir Path tmp) {
        Path saved = tmp.resolve("saved");
        try (LoadedModel model = load(GptqFixtures.gptq(FIXTURE))) {
            dev.qload.core.load.ModelSaver.save(model, saved, Long.MAX_VALUE);
        }
        try (var original = dev.qload.core.checkpoint.Checkpoint.open(GptqFixtures.gptq(FIXTURE));
             var copy = dev.qload.core.checkpoint.Checkpoint.open(saved)) {
            for (String name : original.tensors().keySet()) {
                if (!name.contains("_proj.")) continue;
                var a = original.tensors().get(name).view();
                var b = copy.tensors().get(name).view();
                assertEquals(a.dtype(), b.dtype(), name);
                assertEquals(a.shape(), b.shape(), name);
                assertEquals(-1, a.data().mismatch(b.data()), name + " bytes");
            }
        }
        try (LoadedModel reloaded = load(saved); LoadedModel model = load(GptqFixtures.gptq(FIXTURE))) {
            assertTrue(maxAbsError(logits(model), logits(reloaded)) <= SAME_WEIGHTS, "logits of the re-saved checkpoint");
        }
    }

    @Test
    void autoGptqQuantizeConfigJsonIsReadWhenConfigJsonHasNoQuantizationConfig(@TempDir Path tmp) throws Exception {
        Path dir = CheckpointEdits.rewrite(GptqFixtures.gptq(FIXTURE), tmp.resolve("ck"), t -> {});
        Path config = dir.resolve("config.json");
        var json = (tools.jackson.databind.node.ObjectNode) dev.qload.core.config.Json.STRICT.readTree(java.nio.file.Files.readString(config));
        JsonNode q = json.remove("quantization_config");
        java.nio.file.Files.writeString(config, json.toString());
        // AutoGPTQ's BaseQuantizeConfig.save_pretrained: no quant_method, its own field names.
        java.nio.file.Files.writeString(dir.resolve("quantize_config.json"), "{\"bits\": " + q.get("bits").asInt() + ", \"group_size\": "
                + q.get("group_size").asInt() + ", \"damp_percent\": 0.01, \"desc_act\": false, \"static_groups\": false, \"sym\": true,"
                + " \"true_sequential\": true, \"model_name_or_path\": null, \"model_file_base_name\": \"model\"}");
        try (LoadedModel fromAutoGptq = load(dir); LoadedModel model = load(GptqFixtures.gptq(FIXTURE))) {
            assertEquals("gptq", fromAutoGptq.quantizer().orElseThrow().name());
            assertTrue(maxAbsError(logits(model), logits(fromAutoGptq)) <= SAME_WEIGHTS, "logits");
        }
    }

    @Test
    void actOrderCannotBeQuantizedOnLoadWithoutCalibrationData() {
        LoadOptions quantize = LoadOptions.builder().quantize("gptq", Map.of("bits", 4, "group_size", 32, "desc_act", true)).build();
        QLoadException e = assertThrows(QLoadException.class, () -> loader().load(GptqFixtures.root().resolve("tiny-llama"), quantize).close());
        assertEquals(ErrorId.CONFIG_INVALID, e.id(), e.getMessage());
        assertTrue(e.getMessage().contains("--calibration"), e.getMessage());
    }

    // ------------------------------------------------------------------ hostile checkpoints


    static QLoadException failsCleanly(Path dir) {
        return LoadFailures.failsCleanly(QLoadException.class, () -> load(dir).close());
    }

    static final String Q_PROJ = "model.layers.0.self_attn.q_proj";

    @Test
    void v2ZerosUnderAV1LabelAreDetectedReadAsV2AndReported(@TempDir Path tmp) {
        // The fixture is symmetric 4-bit v1: every zero field is 7 (0x77777777). Store v2's 8s under the same v1 label.
        Path dir = CheckpointEdits.rewrite(GptqFixtures.gptq(FIXTURE), tmp.resolve("ck"), t -> {
            for (var e : t.entrySet()) {
                if (!e.getKey().endsWith(".qzeros")) continue;
                Tensor z = CheckpointEdits.heapCopy(e.getValue());
                for (long i = 0; i < z.shape().elementCount(); i++) {
                    assertEquals(0x77777777, z.data().getAtIndex(GptqLinear.I32, i), e.getKey());
                    z.data().setAtIndex(GptqLinear.I32, i, 0x88888888);
                }
                e.setValue(z);
            }
        });
        try (LoadedModel relabelled = load(dir); LoadedModel original = load(GptqFixtures.gptq(FIXTURE))) {
            assertTrue(relabelled.report().warnings().stream().anyMatch(w -> w.contains("every qzeros field is 8")), relabelled.report().warnings().toString());
            assertTrue(original.report().warnings().isEmpty(), original.report().warnings().toString());
            assertTrue(maxAbsError(logits(original), logits(relabelled)) <= SAME_WEIGHTS, "v2 zeros read as v2 give the v1 model's logits");
        }
    }

    @Test
    void corruptQweightShapeIsAShapeMismatchNamingIt(@TempDir Path tmp) {
        String key = Q_PROJ + ".qweight";
        Path dir = CheckpointEdits.rewrite(GptqFixtures.gptq(FIXTURE), tmp.resolve("ck"), t -> {
            Tensor q = t.get(key);
            assertNotNull(q);
            assertEquals(Shape.of(8, 64), q.shape());
            t.put(key, Tensor.allocate(Shape.of(7, 64), DType.I32, Arena.ofAuto()));
        });
        problemFor(failsCleanly(dir), ErrorId.TENSOR_SHAPE_MISMATCH, key);
    }

    @Test
    void qweightOfTheWrongDtypeIsADtypeMismatchNamingIt(@TempDir Path tmp) {
        String key = Q_PROJ + ".qweight";
        Path dir = CheckpointEdits.rewrite(GptqFixtures.gptq(FIXTURE), tmp.resolve("ck"), t -> t.put(key, Tensor.allocate(Shape.of(8, 64), DType.F32, Arena.ofAuto())));
        problemFor(failsCleanly(dir), ErrorId.TENSOR_DTYPE_MISMATCH, key);
    }

    @Test
    void missingScalesIsInvalidQuantStateNamingIt(@TempDir Path tmp) {
        String key = Q_PROJ + ".scales";
        Path dir = CheckpointEdits.rewrite(GptqFixtures.gptq(FIXTURE), tmp.resolve("ck"), t -> assertNotNull(t.remove(key)));
        problemFor(failsCleanly(dir), ErrorId.INVALID_QUANT_STATE, key);
    }

    @Test
    void scalesOfTheWrongShapeIsAShapeMismatchNamingItAndTheExpectedShape(@TempDir Path tmp) {
        String key = Q_PROJ + ".scales";
        Path dir = CheckpointEdits.rewrite(GptqFixtures.gptq(FIXTURE), tmp.resolve("ck"), t -> {
            assertEquals(Shape.of(2, 64), t.get(key).shape());
            t.put(key, Tensor.allocate(Shape.of(3, 64), DType.F16, Arena.ofAuto()));
        });
        QLoadException e = failsCleanly(dir);
        problemFor(e, ErrorId.TENSOR_SHAPE_MISMATCH, key);
        assertTrue(e.getMessage().contains("[2, 64]") && e.getMessage().contains("[3, 64]"), e.getMessage());
    }

    @Test
    void fiveBitsIsAConfigErrorNamingTheFile(@TempDir Path tmp) throws Exception {
        Path dir = CheckpointEdits.rewrite(GptqFixtures.gptq(FIXTURE), tmp.resolve("ck"), t -> {});
        Path config = dir.resolve("config.json");
        java.nio.file.Files.writeString(config, java.nio.file.Files.readString(config).replace("\"bits\": 4", "\"bits\": 5"));
        QLoadException e = failsCleanly(dir);
        assertEquals(ErrorId.CONFIG_INVALID, e.id(), e.getMessage());
        assertTrue(e.getMessage().contains("bits 5") && e.getMessage().contains("config.json"), e.getMessage());
    }

    @Test
    void gIdxOutOfRangeIsInvalidQuantStateNamingIt(@TempDir Path tmp) {
        String key = Q_PROJ + ".g_idx";
        Path dir = CheckpointEdits.rewrite(GptqFixtures.gptq(FIXTURE), tmp.resolve("ck"), t -> {
            Tensor g = t.get(key);
            g.data().setAtIndex(GptqLinear.I32, 5, 2); // 2 groups: valid values are 0 and 1
        });
        problemFor(failsCleanly(dir), ErrorId.INVALID_QUANT_STATE, key);
    }

    @Test
    void serviceLoaderFindsTheProvider() {
        TreeSet<String> names = new TreeSet<>();
        for (var p : java.util.ServiceLoader.load(dev.qload.core.spi.QuantizerProvider.class)) names.add(p.name());
        assertTrue(names.contains("gptq"), names.toString());
    }
}
