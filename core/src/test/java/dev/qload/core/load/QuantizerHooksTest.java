package dev.qload.core.load;

import static dev.qload.core.load.ToyCheckpoint.HIDDEN;
import static dev.qload.core.load.ToyCheckpoint.INTERMEDIATE;
import static dev.qload.core.load.ToyCheckpoint.expected;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.mockito.ArgumentMatchers.any;
import static org.mockito.ArgumentMatchers.anyString;
import static org.mockito.ArgumentMatchers.eq;
import static org.mockito.Mockito.doAnswer;
import static org.mockito.Mockito.inOrder;
import static org.mockito.Mockito.mock;
import static org.mockito.Mockito.never;
import static org.mockito.Mockito.times;
import static org.mockito.Mockito.verify;
import static org.mockito.Mockito.when;

import dev.qload.core.error.ConfigException;
import dev.qload.core.error.ErrorId;
import dev.qload.core.error.LoadException;
import dev.qload.core.error.PluginException;
import dev.qload.core.module.Module;
import dev.qload.core.nn.Linear;
import dev.qload.core.plugin.Plugins;
import dev.qload.core.safetensors.TensorInfo;
import dev.qload.core.spi.Capability;
import dev.qload.core.spi.QuantizationConfig;
import dev.qload.core.spi.Quantizer;
import dev.qload.core.spi.QuantizerProvider;
import dev.qload.core.spi.TensorAction;
import dev.qload.core.tensor.DType;
import dev.qload.core.tensor.MetaDevice;
import dev.qload.core.tensor.Shape;
import dev.qload.core.tensor.Tensor;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.mockito.ArgumentCaptor;
import org.mockito.InOrder;

class QuantizerHooksTest {
    private static final List<String> KEYS = List.of("encoder.proj.weight", "encoder.proj.bias", "encoder.norm.weight", "encoder.rope.position_ids");
    private static final ValueLayout.OfFloat F32 = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    @TempDir
    Path dir;

    private QuantizerProvider provider;
    private Quantizer quantizer;

    @BeforeEach
    void mocks() {
        provider = mock(QuantizerProvider.class);
        quantizer = mock(Quantizer.class);
        when(provider.name()).thenReturn("toyq");
        when(provider.create(any())).thenReturn(quantizer);
        when(quantizer.name()).thenReturn("toyq");
        when(quantizer.capabilities()).thenReturn(Set.of(Capability.QUANTIZE_ON_LOAD));
        when(quantizer.planTensor(anyString(), any(), any(), anyString())).thenReturn(TensorAction.COPY);
    }

    private Loader loader() {
        return new Loader(new Plugins(List.of(provider), List.of(new ToyArchitecture())));
    }

    private static LoadOptions quantizeToyq() {
        return LoadOptions.builder().quantize("toyq", Map.of("bits", 4)).build();
    }

    @Test
    void hooksRunInOrderReplaceOnMetaThenPlanPerTensorThenAfterLoad() {
        ToyCheckpoint.standard().write(dir);
        AtomicBoolean replaceSawMeta = new AtomicBoolean();
        AtomicBoolean replaceSawMetaTensors = new AtomicBoolean();
        List<Boolean> planSawMeta = new CopyOnWriteArrayList<>();
        doAnswer(inv -> {
            replaceSawMeta.set(MetaDevice.isMetaScope());
            Module root = inv.getArgument(0);
            replaceSawMetaTensors.set(root.namedSlots().stream().allMatch(ns -> ns.slot().get().isMeta()));
            return null;
        }).when(quantizer).replaceWithQuantized(any(), any());
        when(quantizer.planTensor(anyString(), any(), any(), anyString())).thenAnswer(inv -> {
            planSawMeta.add(MetaDevice.isMetaScope());
            return TensorAction.COPY;
        });

        try (LoadedModel m = loader().load(dir, quantizeToyq())) {
            InOrder order = inOrder(provider, quantizer);
            ArgumentCaptor<QuantizationConfig> cfg = ArgumentCaptor.forClass(QuantizationConfig.class);
            order.verify(provider).create(cfg.capture());
            order.verify(quantizer).replaceWithQuantized(any(Module.class), any(QuantizationConfig.class));
            order.verify(quantizer, times(KEYS.size())).planTensor(anyString(), any(TensorInfo.class), any(Module.class), anyString());
            order.verify(quantizer).afterLoad(any(Module.class));

            verify(quantizer, times(1)).replaceWithQuantized(any(), any());
            verify(quantizer, times(KEYS.size())).planTensor(anyString(), any(), any(), anyString());
            verify(quantizer, times(1)).afterLoad(any());
            verify(quantizer).planTensor(eq("encoder.proj.weight"), any(), any(Linear.class), eq("weight"));
            verify(quantizer).planTensor(eq("encoder.proj.bias"), any(), any(Linear.class), eq("bias"));
            verify(quantizer).planTensor(eq("encoder.norm.weight"), any(), any(), eq("weight"));
            verify(quantizer).planTensor(eq("encoder.rope.position_ids"), any(), any(ToyArchitecture.ToyRotary.class), eq("position_ids"));

            assertTrue(replaceSawMeta.get(), "replaceWithQuantized must run inside the meta scope");
            assertTrue(replaceSawMetaTensors.get(), "the tree handed to replaceWithQuantized is all META");
            assertEquals(KEYS.size(), planSawMeta.size());
            assertFalse(planSawMeta.contains(true), "planning runs outside the meta scope");

            assertFalse(cfg.getValue().preQuantized(), "quantize-on-load of a dense checkpoint");
            assertEquals("toyq", cfg.getValue().method());
            assertEquals(4, cfg.getValue().fields().intValue("bits"));

            ArgumentCaptor<Module> afterLoadRoot = ArgumentCaptor.forClass(Module.class);
            verify(quantizer).afterLoad(afterLoadRoot.capture());
            assertSame(m.root(), afterLoadRoot.getValue());
            assertEquals("toyq", m.report().quantization());
            assertTrue(m.report().phases().stream().anyMatch(p -> p.name().equals("quantize_meta")));
        }
    }

    @Test
    void planTensorSeesTheCheckpointTensorInfo() {
        ToyCheckpoint.standard().write(dir);
        try (LoadedModel m = loader().load(dir, quantizeToyq())) {
            ArgumentCaptor<TensorInfo> info = ArgumentCaptor.forClass(TensorInfo.class);
            verify(quantizer).planTensor(eq("encoder.proj.weight"), info.capture(), any(), eq("weight"));
            assertEquals(Shape.of(INTERMEDIATE, HIDDEN), info.getValue().shape());
            assertEquals(DType.F32, info.getValue().dtype());
            assertEquals("encoder.proj.weight", info.getValue().name());
        }
    }

    @Test
    void noHookRunsAfterAFailedPlan() {
        ToyCheckpoint.standard().put("encoder.proj.weight", ToyCheckpoint.floats(Shape.of(INTERMEDIATE, HIDDEN + 1), 1)).write(dir);
        LoadException e = assertThrows(LoadException.class, () -> loader().load(dir, quantizeToyq()));
        assertEquals(ErrorId.TENSOR_SHAPE_MISMATCH, e.id());
        verify(quantizer, times(1)).replaceWithQuantized(any(), any());
        verify(quantizer, never()).afterLoad(any());
    }

    @Test
    void aQuantizerThatReturnsNoActionIsNamedAsBreakingTheContract() {
        ToyCheckpoint.standard().write(dir);
        when(quantizer.planTensor(anyString(), any(), any(), anyString())).thenReturn(null);
        LoadException e = assertThrows(LoadException.class, () -> loader().load(dir, quantizeToyq()));
        assertEquals(ErrorId.PLUGIN_CONTRACT, e.id());
        assertTrue(e.getMessage().contains("quantizer 'toyq' returned no action"), e.getMessage());
        verify(quantizer, never()).afterLoad(any());
    }

    @Test
    void preQuantizedCheckpointCreatesTheDeclaredQuantizer() {
        ToyCheckpoint c = ToyCheckpoint.standard();
        c.config = c.config.replace("}", ", \"quantization_config\": {\"quant_method\": \"toyq\", \"bits\": 8}}");
        c.write(dir);
        try (LoadedModel m = loader().load(dir, LoadOptions.defaults())) {
            ArgumentCaptor<QuantizationConfig> cfg = ArgumentCaptor.forClass(QuantizationConfig.class);
            verify(provider).create(cfg.capture());
            assertTrue(cfg.getValue().preQuantized());
            assertEquals("toyq", cfg.getValue().method());
            assertEquals(8, cfg.getValue().fields().intValue("bits"));
            assertSame(quantizer, m.quantizer().orElseThrow());
            verify(quantizer).afterLoad(any());
        }
    }

    @Test
    void preQuantizedCheckpointCannotBeQuantizedAgainWithAnotherMethod() {
        ToyCheckpoint c = ToyCheckpoint.standard();
        c.config = c.config.replace("}", ", \"quantization_config\": {\"quant_method\": \"toyq\"}}");
        c.write(dir);
        ConfigException e = assertThrows(ConfigException.class, () -> loader().load(dir, LoadOptions.builder().quantize("other", Map.of()).build()));
        assertEquals(ErrorId.CONFIG_INVALID, e.id());
        assertTrue(e.getMessage().contains("'toyq'") && e.getMessage().contains("'other'"), e.getMessage());
        verify(provider, never()).create(any());
    }

    @Test
    void unknownQuantMethodListsTheAvailableNames() {
        ToyCheckpoint c = ToyCheckpoint.standard();
        c.config = c.config.replace("}", ", \"quantization_config\": {\"quant_method\": \"awq\"}}");
        c.write(dir);
        PluginException e = assertThrows(PluginException.class, () -> loader().load(dir, LoadOptions.defaults()));
        assertEquals(ErrorId.UNKNOWN_QUANTIZER, e.id());
        assertTrue(e.getMessage().contains("'awq'"), e.getMessage());
        assertTrue(e.getMessage().contains("available: [toyq]"), e.getMessage());
        verify(provider, never()).create(any());
    }

    // ---------------------------------------------------------------- a real toy quantizer

    /** A Linear replaced on META by int8 weights with one F32 scale per output row. */
    static final class Int8Linear extends Module {
        Int8Linear(long in, long out) {
            registerParameter("weight", Tensor.empty(Shape.of(out, in), DType.I8));
            registerParameter("weight_scale", Tensor.empty(Shape.of(out), DType.F32));
            registerParameter("bias", Tensor.empty(Shape.of(out), DType.F32));
        }
    }

    /** Symmetric per-row absmax int8: scale = max|w| / 127, q = round(w / scale). */
    static void quantizeRows(float[] w, int rows, int cols, byte[] q, float[] scale) {
        for (int r = 0; r < rows; r++) {
            float max = 0;
            for (int c = 0; c < cols; c++) max = Math.max(max, Math.abs(w[r * cols + c]));
            scale[r] = max / 127f;
            for (int c = 0; c < cols; c++) q[r * cols + c] = (byte) Math.round(w[r * cols + c] / scale[r]);
        }
    }

    static final class ToyInt8 implements Quantizer, QuantizerProvider {
        final AtomicReference<Tensor> denseSeen = new AtomicReference<>();
        final AtomicReference<float[]> denseValues = new AtomicReference<>();
        final AtomicReference<Map<String, Tensor>> targetsSeen = new AtomicReference<>();

        public String name() { return "toyq"; }
        public Quantizer create(QuantizationConfig config) { return this; }
        public Set<Capability> capabilities() { return Set.of(Capability.QUANTIZE_ON_LOAD); }

        public void replaceWithQuantized(Module root, QuantizationConfig config) {
            Linear old = (Linear) root.find("encoder.proj");
            root.replace("encoder.proj", new Int8Linear(old.inFeatures(), old.outFeatures()));
        }

        @Override
        public TensorAction planTensor(String key, TensorInfo source, Module owner, String localName) {
            if (owner instanceof Int8Linear && localName.equals("weight")) {
                return new TensorAction.Quantize(List.of("weight", "weight_scale"), (dense, targets) -> {
                    denseSeen.set(dense);
                    denseValues.set(dense.toFloatArray());
                    targetsSeen.set(Map.copyOf(targets));
                    int rows = (int) dense.shape().dim(0), cols = (int) dense.shape().dim(1);
                    byte[] q = new byte[rows * cols];
                    float[] scale = new float[rows];
                    quantizeRows(dense.toFloatArray(), rows, cols, q, scale);
                    for (int i = 0; i < q.length; i++) targets.get("weight").data().set(ValueLayout.JAVA_BYTE, i, q[i]);
                    for (int r = 0; r < rows; r++) targets.get("weight_scale").data().setAtIndex(F32, r, scale[r]);
                });
            }
            return TensorAction.COPY;
        }
    }

    @Test
    void quantizeActionHandsTheDenseTensorToTheKernelAndKeepsWhatItWrote() {
        ToyCheckpoint.standard().write(dir);
        ToyInt8 toy = new ToyInt8();
        Loader loader = new Loader(new Plugins(List.of(toy), List.of(new ToyArchitecture())));
        try (LoadedModel m = loader.load(dir, LoadOptions.builder().quantize("toyq", Map.of()).build())) {
            // the kernel got the checkpoint's dense F32 values, as a CPU view
            Tensor dense = toy.denseSeen.get();
            assertNotNull(dense, "the kernel never ran");
            assertEquals(DType.F32, dense.dtype());
            assertFalse(dense.isMeta());
            assertEquals(Shape.of(INTERMEDIATE, HIDDEN), dense.shape());
            float[] w = expected(INTERMEDIATE * HIDDEN, 1);
            assertArrayEquals(w, toy.denseValues.get());
            assertEquals(Set.of("weight", "weight_scale"), toy.targetsSeen.get().keySet());
            assertEquals(DType.I8, toy.targetsSeen.get().get("weight").dtype());
            assertEquals(DType.F32, toy.targetsSeen.get().get("weight_scale").dtype());

            // what the kernel wrote is what the model holds
            Module proj = m.root().find("encoder.proj");
            assertInstanceOf(Int8Linear.class, proj);
            byte[] q = new byte[w.length];
            float[] scale = new float[INTERMEDIATE];
            quantizeRows(w, INTERMEDIATE, HIDDEN, q, scale);
            Tensor qw = proj.slot("weight").get();
            assertEquals(DType.I8, qw.dtype());
            byte[] got = new byte[w.length];
            for (int i = 0; i < got.length; i++) got[i] = qw.data().get(ValueLayout.JAVA_BYTE, i);
            assertArrayEquals(q, got);
            assertTrue(got[0] != 0 && got[got.length - 1] == 127, "non-trivial codes: " + java.util.Arrays.toString(got));
            assertArrayEquals(scale, proj.slot("weight_scale").get().toFloatArray());
            // the bias of the replaced module is copied as usual
            assertArrayEquals(expected(INTERMEDIATE, 2), proj.slot("bias").get().toFloatArray());
            // the report counts the private memory of the quantized targets, not a dense copy
            assertEquals(List.of(), m.report().missingKeys());
        }
    }

    @Test
    void quantizeActionNamingAnUnknownSlotFailsInThePlan() {
        ToyCheckpoint.standard().write(dir);
        QuantizerProvider p = new QuantizerProvider() {
            public String name() { return "toyq"; }
            public Quantizer create(QuantizationConfig config) {
                return new Quantizer() {
                    public String name() { return "toyq"; }
                    public Set<Capability> capabilities() { return Set.of(); }
                    public void replaceWithQuantized(Module root, QuantizationConfig c) {}
                    @Override
                    public TensorAction planTensor(String key, TensorInfo source, Module owner, String localName) {
                        return key.equals("encoder.proj.weight") ? new TensorAction.Quantize(List.of("weight_packed"), (d, t) -> {}) : TensorAction.COPY;
                    }
                };
            }
        };
        LoadException e = assertThrows(LoadException.class, () -> new Loader(new Plugins(List.of(p), List.of(new ToyArchitecture())))
                .load(dir, LoadOptions.builder().quantize("toyq", Map.of()).build()));
        assertTrue(e.problems().stream().anyMatch(pr -> pr.id() == ErrorId.PLUGIN_CONTRACT && pr.message().contains("'weight_packed'")), e.getMessage());
    }
}
