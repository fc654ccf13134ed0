package dev.qload.timm;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.qload.core.QLoad;
import dev.qload.core.config.ModelConfig;
import dev.qload.core.error.ErrorId;
import dev.qload.core.error.LoadException;
import dev.qload.core.load.LoadOptions;
import dev.qload.core.load.LoadedModel;
import dev.qload.core.load.Loader;
import dev.qload.core.module.Module;
import dev.qload.core.module.NamedSlot;
import dev.qload.core.module.TensorKind;
import dev.qload.core.plugin.Plugins;
import dev.qload.core.spi.ArchitectureProvider;
import dev.qload.core.spi.KeyRename;
import dev.qload.core.tensor.DType;
import dev.qload.core.tensor.MetaDevice;
import dev.qload.core.tensor.OffHeap;
import dev.qload.core.tensor.Tensor;
import dev.qload.timm.nn.RebuiltBuffers;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * timm's non-persistent buffers (spec/HF-LOADING.md §1.6): after a META load each equals, bit for
 * bit, what an eager construction computes; each matches timm's own computation (the PyTorch
 * reference's buffers.safetensors); and a model that declares one without its initializer cannot load.
 */
class RebuiltBuffersTest {
    /** The rotary table is sin/cos in F32: Java's and torch's libm may round a value differently. */
    static final double ROPE_TOLERANCE = 1e-6;

    @ParameterizedTest
    @ValueSource(strings = {"swin-tiny", "swin-tiny-wrapper", "eva02-tiny", "vit-tiny", "resnet-tiny"})
    void metaLoadedBuffersEqualTheEagerConstructionBitForBit(String model) {
        Module eager = TimmModels.build(TimmConfig.from(ModelConfig.read(TimmFixtures.dir(model).resolve("config.json"))), DType.F32);
        Map<String, Tensor> built = nonPersistent(eager);
        try (LoadedModel loaded = QLoad.load(TimmFixtures.dir(model), LoadOptions.defaults())) {
            Map<String, Tensor> rebuilt = nonPersistent(loaded.root());
            assertEquals(built.keySet(), rebuilt.keySet());
            for (var e : rebuilt.entrySet()) {
                Tensor b = built.get(e.getKey());
                assertEquals(b.shape(), e.getValue().shape(), e.getKey());
                assertEquals(b.dtype(), e.getValue().dtype(), e.getKey());
                assertEquals(-1, b.data().mismatch(e.getValue().data()), e.getKey() + " differs from the eager construction");
            }
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"swin-tiny", "eva02-tiny", "vit-tiny", "resnet-tiny"})
    void rebuiltBuffersMatchTimm(String model) {
        Map<String, Tensor> expected = new TreeMap<>(TimmFixtures.read(TimmFixtures.reference(model).resolve("buffers.safetensors")));
        try (LoadedModel loaded = QLoad.load(TimmFixtures.dir(model), LoadOptions.defaults())) {
            Map<String, Tensor> rebuilt = nonPersistent(loaded.root());
            assertEquals(expected.keySet(), rebuilt.keySet(), "every non-persistent buffer timm has, and no other");
            for (var e : expected.entrySet()) {
                Tensor want = e.getValue(), got = rebuilt.get(e.getKey());
                assertEquals(want.shape(), got.shape(), e.getKey());
                assertEquals(want.dtype(), got.dtype(), e.getKey());
                float[] w = want.toFloatArray(), g = got.toFloatArray();
                double err = TimmFixtures.maxAbsDiff(w, g);
                System.out.printf("%-12s %-48s %-4s %s max |qload - timm| = %.3g%n", model, e.getKey(), want.dtype(), want.shape(), err);
                if (e.getKey().endsWith("rope.pos_embed")) assertTrue(err <= ROPE_TOLERANCE, e.getKey() + ": " + err);
                else assertEquals(-1, want.data().mismatch(got.data()), e.getKey() + " is not bit-identical to timm's");
            }
        }
    }

    @Test
    void everyKindOfRebuiltBufferIsCovered() {
        Set<String> kinds = new java.util.TreeSet<>();
        for (String model : List.of("swin-tiny", "eva02-tiny")) {
            for (String path : TimmFixtures.read(TimmFixtures.reference(model).resolve("buffers.safetensors")).keySet()) {
                kinds.add(path.substring(path.lastIndexOf('.') + 1));
            }
        }
        assertEquals(Set.of("relative_position_index", "attn_mask", "pos_embed", "k_bias"), kinds);
    }

    @ParameterizedTest
    @CsvSource({"swin-tiny, relative_position_index, WindowAttention", "swin-tiny, attn_mask, SwinTransformerBlock",
            "eva02-tiny, pos_embed, RotaryEmbeddingCat", "eva02-tiny, k_bias, EvaAttention"})
    void aBufferDeclaredWithoutItsInitializerFailsTheLoadNamingIt(String model, String buffer, String module) {
        long live = OffHeap.liveBytes();
        Loader forgetful = new Loader(new Plugins(List.of(), List.of(new ForgetfulTimm(buffer))));
        LoadException e = assertThrows(LoadException.class, () -> forgetful.load(TimmFixtures.dir(model), LoadOptions.defaults()).close());
        assertEquals(ErrorId.BUFFER_WITHOUT_INITIALIZER, e.id());
        assertTrue(e.getMessage().contains("'" + buffer + "'") && e.getMessage().contains(module), e.getMessage());
        assertEquals(live, OffHeap.liveBytes(), "a failed load frees what it allocated");
    }

    @ParameterizedTest
    @ValueSource(strings = {"swin-tiny", "eva02-tiny", "vit-tiny", "resnet-tiny"})
    void buildingOnMetaAllocatesNothing(String model) {
        TimmConfig config = TimmConfig.from(ModelConfig.read(TimmFixtures.dir(model).resolve("config.json")));
        long total = OffHeap.totalAllocatedBytes();
        Module root = MetaDevice.withMetaDevice(() -> TimmModels.build(config, DType.F32));
        assertEquals(total, OffHeap.totalAllocatedBytes());
        assertFalse(root.namedSlots().isEmpty());
        for (NamedSlot ns : root.namedSlots()) assertTrue(ns.slot().get().isMeta(), ns.path());
    }

    private static Map<String, Tensor> nonPersistent(Module root) {
        Map<String, Tensor> out = new TreeMap<>();
        for (NamedSlot ns : root.namedSlots()) if (ns.slot().kind() == TensorKind.NON_PERSISTENT_BUFFER) out.put(ns.path(), ns.slot().get());
        return out;
    }

    /** The timm provider as a port that forgot one buffer's initializer would be. */
    private record ForgetfulTimm(String buffer) implements ArchitectureProvider {
        private static final TimmArchitecture TIMM = new TimmArchitecture();

        public String name() { return "forgetful-timm"; }
        public Set<String> architectures() { return TIMM.architectures(); }
        public Set<String> modelTypes() { return TIMM.modelTypes(); }
        public boolean recognizes(ModelConfig config) { return TIMM.recognizes(config); }
        public List<KeyRename> keyRenames(ModelConfig config) { return TIMM.keyRenames(config); }

        public Module build(ModelConfig config, DType dtype) {
            return TimmModels.build(TimmConfig.from(config), dtype, RebuiltBuffers.omitting(buffer));
        }
    }
}
