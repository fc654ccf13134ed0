package dev.qload.models.llama;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.qload.core.QLoad;
import dev.qload.core.checkpoint.Checkpoint;
import dev.qload.core.checkpoint.CheckpointTensor;
import dev.qload.core.error.ErrorId;
import dev.qload.core.error.QLoadException;
import dev.qload.core.load.LoadOptions;
import dev.qload.core.load.LoadedModel;
import dev.qload.core.load.Residency;
import dev.qload.core.module.Module;
import dev.qload.core.module.NamedSlot;
import dev.qload.core.nn.Linear;
import dev.qload.core.safetensors.SafetensorsFile;
import dev.qload.core.tensor.DType;
import dev.qload.core.tensor.Tensor;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** Whole loads of the PyTorch-made fixtures through the public facade, plugins found by ServiceLoader. */
class LlamaLoadTest {

    @ParameterizedTest
    @ValueSource(strings = {"tiny-llama", "tiny-llama-sharded", "tiny-qwen2", "tiny-mistral", "demo-llama", "tiny-llama-rope-linear",
            "tiny-llama-rope-dynamic", "tiny-llama-rope-llama3", "tiny-llama-rope-yarn", "tiny-llama-attn-bias", "tiny-llama-f16-sharded"})
    void everyCheckpointTensorLandsBitForBitAndInvFreqIsRecomputed(String name) {
        Path dir = TestData.dir(name);
        try (LoadedModel model = QLoad.load(dir); Checkpoint ckpt = Checkpoint.open(dir)) {
            Map<String, Tensor> state = model.root().stateDict();
            for (CheckpointTensor ct : ckpt.tensors().values()) {
                Tensor loaded = state.get(ct.name());
                assertEquals(ct.info().dtype(), loaded.dtype(), ct.name());
                assertEquals(ct.info().shape(), loaded.shape(), ct.name());
                assertTrue(ct.view().data().mismatch(loaded.data()) < 0, ct.name() + " differs from the checkpoint");
            }
            for (NamedSlot ns : model.root().namedSlots()) assertFalse(ns.slot().get().isMeta(), ns.path() + " left on META");
            try (SafetensorsFile ref = SafetensorsFile.open(TestData.dir(name + "-reference").resolve("reference.safetensors"))) {
                float[] expected = ref.tensor("inv_freq").toFloatArray();
                Module rotary = model.root().find("model.rotary_emb");
                assertArrayEquals(expected, rotary.slot("inv_freq").get().toFloatArray(), 0f);
                assertArrayEquals(expected, rotary.slot("original_inv_freq").get().toFloatArray(), 0f);
            }
            assertTrue(model.report().missingKeys().isEmpty());
            assertTrue(model.report().unexpectedKeys().isEmpty());
            assertEquals(2, model.report().initializedBuffers().size()); // inv_freq and original_inv_freq
        }
    }

    @Test
    void tiedCheckpointSharesTheEmbeddingWithLmHead() {
        try (LoadedModel model = QLoad.load(TestData.dir("tiny-llama-sharded"))) {
            Module root = model.root();
            assertSame(root.find("model.embed_tokens").slot("weight").get(), root.find("lm_head").slot("weight").get());
            assertEquals(3, model.report().files());
            assertEquals(DType.BF16.name(), model.report().dtype());
        }
    }

    @Test
    void tiedWeightsAreOneAllocationEvenWhenConverted() {
        try (LoadedModel model = QLoad.load(TestData.dir("tiny-llama-sharded"), LoadOptions.builder().dtype(DType.F32).build())) {
            Tensor embed = model.root().slotAt("model.embed_tokens.weight").get();
            assertSame(embed, model.root().slotAt("lm_head.weight").get());
            // Every allocation: each checkpoint tensor converted once (F32 = 2 × BF16 bytes) plus the two F32 RoPE buffers.
            long checkpointBf16Bytes;
            try (Checkpoint ckpt = Checkpoint.open(TestData.dir("tiny-llama-sharded"))) {
                checkpointBf16Bytes = ckpt.totalBytes();
            }
            long ropeBytes = 2 * model.root().slotAt("model.rotary_emb.inv_freq").get().byteSize();
            assertEquals(2 * checkpointBf16Bytes + ropeBytes, model.report().bytesAllocated());
            assertEquals(model.report().bytesAllocated(), model.report().modelBytes());
        }
    }

    @Test
    void checkpointHoldingBothTiedTensorsLoadsUntiedWithAWarning() {
        // transformers: both present → "should update the config with tie_word_embeddings=False", and no tie.
        Path dir = TestData.dir("tiny-llama-tied-both");
        try (LoadedModel model = QLoad.load(dir); Checkpoint ckpt = Checkpoint.open(dir)) {
            Tensor head = model.root().slotAt("lm_head.weight").get();
            assertFalse(head == model.root().slotAt("model.embed_tokens.weight").get());
            assertTrue(ckpt.tensors().get("lm_head.weight").view().data().mismatch(head.data()) < 0);
            assertTrue(model.report().warnings().stream().anyMatch(w -> w.contains("tie_word_embeddings=false")), model.report().warnings().toString());
        }
    }

    @Test
    void untiedCheckpointKeepsItsOwnLmHead() {
        try (LoadedModel model = QLoad.load(TestData.dir("tiny-llama"))) {
            Module root = model.root();
            assertFalse(root.find("model.embed_tokens").slot("weight").get() == root.find("lm_head").slot("weight").get());
        }
    }

    @Test
    void qwen2HasQkvBiasButNoOutputBias() {
        try (LoadedModel model = QLoad.load(TestData.dir("tiny-qwen2"))) {
            Module attn = model.root().find("model.layers.0.self_attn");
            assertTrue(((Linear) attn.children().get("q_proj")).hasBias());
            assertTrue(((Linear) attn.children().get("v_proj")).hasBias());
            assertNull(((Linear) attn.children().get("o_proj")).bias());
            // use_sliding_window is false in this config, so no layer may get a window.
            assertEquals(0, ((LlamaAttention) attn).slidingWindow());
        }
    }

    @Test
    void mistralLayersCarryTheSlidingWindow() {
        try (LoadedModel model = QLoad.load(TestData.dir("tiny-mistral"))) {
            assertEquals(4, ((LlamaAttention) model.root().find("model.layers.1.self_attn")).slidingWindow());
        }
    }

    @Test
    void dtypeConversionOnLoadRoundsLikeTorch() {
        // BF16 → F32 is exact: every converted value must equal the BF16 value widened.
        Path dir = TestData.dir("tiny-llama-sharded");
        try (LoadedModel model = QLoad.load(dir, LoadOptions.builder().dtype(DType.F32).build()); Checkpoint ckpt = Checkpoint.open(dir)) {
            Tensor loaded = model.root().find("model.layers.1.mlp.down_proj").slot("weight").get();
            Tensor source = ckpt.tensors().get("model.layers.1.mlp.down_proj.weight").view();
            assertEquals(DType.F32, loaded.dtype());
            assertArrayEquals(source.toFloatArray(), loaded.toFloatArray(), 0f);
            assertTrue(model.report().bytesRead() > 0);
            assertEquals(0, model.report().bytesMapped());
        }
    }

    @Test
    void zeroCopyMapsEveryWeightAndCopiedResidencyAllocatesThem() {
        Path dir = TestData.dir("tiny-llama");
        try (LoadedModel mapped = QLoad.load(dir);
             LoadedModel copied = QLoad.load(dir, LoadOptions.builder().residency(Residency.COPIED).build())) {
            assertEquals(mapped.report().bytesMapped(), copied.report().bytesRead());
            assertEquals(0, mapped.report().bytesRead());
            Tensor a = mapped.root().find("model.norm").slot("weight").get();
            Tensor b = copied.root().find("model.norm").slot("weight").get();
            assertArrayEquals(a.toFloatArray(), b.toFloatArray(), 0f);
        }
    }

    @Test
    void usingAModelAfterCloseIsAClearErrorAndCloseTwiceIsHarmless() {
        LoadedModel model = QLoad.load(TestData.dir("tiny-llama"));
        model.close();
        model.close();
        QLoadException e = assertThrows(QLoadException.class, model::root);
        assertEquals(ErrorId.MODEL_CLOSED, e.id());
    }

    @Test
    void reportJsonHasTheStableFieldNames() {
        try (LoadedModel model = QLoad.load(TestData.dir("tiny-llama-sharded"))) {
            var json = model.report().toJson();
            for (String field : new String[] {"total_ms", "phases", "bytes_read", "bytes_mapped", "peak_offheap_bytes",
                    "missing_keys", "unexpected_keys", "mismatched_keys"}) {
                assertTrue(json.has(field), field);
            }
            for (String phase : new String[] {"open", "build_meta", "plan", "materialize", "finish"}) {
                assertTrue(json.get("phases").has(phase), phase);
            }
        }
    }

    @Test
    void inconsistentHeadCountsAreAConfigErrorNamingTheFile(@org.junit.jupiter.api.io.TempDir Path tmp) throws Exception {
        Path dir = copyOf("tiny-llama", tmp);
        rewriteConfig(dir, "\"num_key_value_heads\": 2", "\"num_key_value_heads\": 3");
        QLoadException e = assertThrows(QLoadException.class, () -> QLoad.load(dir));
        assertEquals(ErrorId.CONFIG_INVALID, e.id());
        assertTrue(e.getMessage().contains("config.json") && e.getMessage().contains("num_key_value_heads 3"), e.getMessage());
    }

    @Test
    void aStringWhereAnIntegerBelongsIsAWrongTypeError(@org.junit.jupiter.api.io.TempDir Path tmp) throws Exception {
        Path dir = copyOf("tiny-llama", tmp);
        rewriteConfig(dir, "\"hidden_size\": 64", "\"hidden_size\": \"64\"");
        QLoadException e = assertThrows(QLoadException.class, () -> QLoad.load(dir));
        assertEquals(ErrorId.CONFIG_WRONG_TYPE, e.id());
        assertTrue(e.getMessage().contains("'hidden_size' must be an integer"), e.getMessage());
    }

    static Path copyOf(String fixture, Path tmp) throws java.io.IOException {
        Path dir = tmp.resolve(fixture);
        java.nio.file.Files.createDirectories(dir);
        try (var files = java.nio.file.Files.list(TestData.dir(fixture))) {
            for (Path f : files.toList()) java.nio.file.Files.copy(f, dir.resolve(f.getFileName()));
        }
        return dir;
    }

    static void rewriteConfig(Path dir, String from, String to) throws java.io.IOException {
        Path config = dir.resolve("config.json");
        String text = java.nio.file.Files.readString(config);
        if (!text.contains(from)) throw new IllegalStateException("fixture config lacks " + from);
        java.nio.file.Files.writeString(config, text.replace(from, to));
    }
}
