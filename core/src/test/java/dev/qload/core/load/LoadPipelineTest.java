package dev.qload.core.load;

import static dev.qload.core.load.ToyCheckpoint.HIDDEN;
import static dev.qload.core.load.ToyCheckpoint.INTERMEDIATE;
import static dev.qload.core.load.ToyCheckpoint.SCALE;
import static dev.qload.core.load.ToyCheckpoint.TABLE;
import static dev.qload.core.load.ToyCheckpoint.expected;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.qload.core.config.Json;
import dev.qload.core.config.ModelConfig;
import dev.qload.core.error.ErrorId;
import dev.qload.core.error.LoadException;
import dev.qload.core.error.Problem;
import dev.qload.core.error.QLoadException;
import dev.qload.core.module.Module;
import dev.qload.core.module.NamedSlot;
import dev.qload.core.nn.RmsNorm;
import dev.qload.core.plugin.Plugins;
import dev.qload.core.safetensors.TensorInfo;
import dev.qload.core.spi.Capability;
import dev.qload.core.spi.QuantizationConfig;
import dev.qload.core.spi.Quantizer;
import dev.qload.core.spi.QuantizerProvider;
import dev.qload.core.spi.TensorAction;
import dev.qload.core.tensor.DType;
import dev.qload.core.tensor.Device;
import dev.qload.core.tensor.MetaDevice;
import dev.qload.core.tensor.OffHeap;
import dev.qload.core.tensor.Shape;
import dev.qload.core.tensor.Tensor;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import tools.jackson.databind.JsonNode;

class LoadPipelineTest {
    @TempDir
    Path dir;

    private static Loader loader(QuantizerProvider... quantizers) {
        return new Loader(new Plugins(List.of(quantizers), TestArchitectures.all()));
    }

    private static Tensor tensor(LoadedModel m, String path) {
        for (NamedSlot ns : m.root().namedSlots()) if (ns.path().equals(path)) return ns.slot().get();
        throw new AssertionError("no slot " + path);
    }

    private static float[] expectedTable() {
        float[] t = new float[TABLE];
        for (int i = 0; i < TABLE; i++) t[i] = ToyArchitecture.expectedTable(i, TABLE, SCALE);
        return t;
    }

    private static LoadException loadFails(Path dir, LoadOptions options) {
        return assertThrows(LoadException.class, () -> loader().load(dir, options).close());
    }

    // ---------------------------------------------------------------- full load

    @Test
    void fullLoadGivesCheckpointValuesAndRecomputesNonPersistentBuffer() {
        ToyCheckpoint.standard().write(dir);
        try (LoadedModel m = loader().load(dir, LoadOptions.defaults())) {
            assertArrayEquals(expected(INTERMEDIATE * HIDDEN, 1), tensor(m, "encoder.proj.weight").toFloatArray());
            assertArrayEquals(expected(INTERMEDIATE, 2), tensor(m, "encoder.proj.bias").toFloatArray());
            assertArrayEquals(expected(INTERMEDIATE, 3), tensor(m, "encoder.norm.weight").toFloatArray());
            // the persistent buffer comes from the checkpoint (2*i), not from its initializer (i)
            assertArrayEquals(new long[] {0, 2, 4, 6, 8}, ToyCheckpoint.readLongs(tensor(m, "encoder.rope.position_ids")));
            // the non-persistent buffer is recomputed from the config
            assertArrayEquals(expectedTable(), tensor(m, "encoder.rope.table").toFloatArray());
            for (NamedSlot ns : m.root().namedSlots()) assertEquals(Device.CPU, ns.slot().get().device(), ns.path());

            LoadReport r = m.report();
            assertEquals(List.of("encoder.rope.table"), r.initializedBuffers());
            assertEquals(List.of(), r.missingKeys());
            assertEquals(List.of(), r.unexpectedKeys());
            assertEquals(List.of(), r.mismatchedKeys());
            assertEquals(4, r.tensors());
            assertEquals("F32", r.dtype());
            assertEquals("none", r.quantization());
            assertEquals(INTERMEDIATE * HIDDEN + INTERMEDIATE + INTERMEDIATE, r.parameters());
        }
    }

    @Test
    void missingPersistentBufferWithInitializerIsInitializedWithWarning() {
        ToyCheckpoint.standard().remove("encoder.rope.position_ids").write(dir);
        try (LoadedModel m = loader().load(dir, LoadOptions.defaults())) {
            assertArrayEquals(new long[] {0, 1, 2, 3, 4}, ToyCheckpoint.readLongs(tensor(m, "encoder.rope.position_ids")));
            assertEquals(Set.of("encoder.rope.table", "encoder.rope.position_ids"), new HashSet<>(m.report().initializedBuffers()));
            assertTrue(m.report().warnings().stream().anyMatch(w -> w.contains("encoder.rope.position_ids")), m.report().warnings().toString());
            assertEquals(List.of(), m.report().missingKeys());
        }
    }

    // ---------------------------------------------------------------- missing keys

    @Test
    void missingParameterFailsNamingKeyAndModuleType() {
        ToyCheckpoint.standard().remove("encoder.proj.weight").write(dir);
        LoadException e = loadFails(dir, LoadOptions.defaults());
        assertEquals(ErrorId.MISSING_KEY, e.id());
        assertEquals(1, e.problems().size());
        String msg = e.problems().getFirst().message();
        assertTrue(msg.contains("'encoder.proj.weight'"), msg);
        assertTrue(msg.contains("Linear"), msg);
        assertTrue(e.getMessage().contains("[qload/MissingKey]"), e.getMessage());
    }

    @Test
    void everyMissingTensorIsNamedInOneException() {
        ToyCheckpoint.standard().remove("encoder.proj.weight").remove("encoder.proj.bias").remove("encoder.norm.weight").write(dir);
        LoadException e = loadFails(dir, LoadOptions.defaults());
        assertEquals(3, e.problems().size(), e.getMessage());
        for (Problem p : e.problems()) assertEquals(ErrorId.MISSING_KEY, p.id());
        List<String> messages = e.problems().stream().map(Problem::message).toList();
        for (String key : List.of("encoder.proj.weight", "encoder.proj.bias", "encoder.norm.weight")) {
            assertTrue(messages.stream().anyMatch(m -> m.contains("'" + key + "'")), key + " not named in " + messages);
        }
        assertTrue(messages.stream().anyMatch(m -> m.contains("'encoder.norm.weight'") && m.contains("RmsNorm")), messages.toString());
    }

    @Test
    void allowMissingLoadsAndReportsTheMissingKeyWithAWarning() {
        ToyCheckpoint.standard().remove("encoder.norm.weight").write(dir);
        try (LoadedModel m = loader().load(dir, LoadOptions.builder().allowMissing(true).build())) {
            assertEquals(List.of("encoder.norm.weight"), m.report().missingKeys());
            assertTrue(m.report().warnings().stream().anyMatch(w -> w.contains("'encoder.norm.weight'")), m.report().warnings().toString());
            Tensor norm = tensor(m, "encoder.norm.weight");
            assertFalse(norm.isMeta());
            assertEquals(Shape.of(INTERMEDIATE), norm.shape());
            assertArrayEquals(expected(INTERMEDIATE * HIDDEN, 1), tensor(m, "encoder.proj.weight").toFloatArray());
        }
    }

    // ---------------------------------------------------------------- mismatches

    @Test
    void shapeMismatchNamesFileTensorOffsetAndBothShapes() throws IOException {
        ToyCheckpoint.standard().put("encoder.proj.weight", ToyCheckpoint.floats(Shape.of(INTERMEDIATE, HIDDEN + 1), 1)).write(dir);
        Path file = dir.resolve("model.safetensors");
        long expectedOffset = fileOffsetOf(file, "encoder.proj.weight");

        LoadException e = loadFails(dir, LoadOptions.defaults());
        assertEquals(ErrorId.TENSOR_SHAPE_MISMATCH, e.id());
        assertEquals(1, e.problems().size());
        Problem p = e.problems().getFirst();
        assertEquals(file, p.file());
        assertEquals("encoder.proj.weight", p.tensor());
        assertEquals(expectedOffset, p.offset());
        assertTrue(p.message().contains("[6, 5]") && p.message().contains("[6, 4]"), p.message());
        assertTrue(p.message().indexOf("[6, 5]") < p.message().indexOf("expects [6, 4]"), "found first, then expected: " + p.message());
        assertTrue(p.render().contains("byte offset " + expectedOffset), p.render());
    }

    /** 8 + header length + the tensor's data_offsets begin, read from the file independently of the loader. */
    private static long fileOffsetOf(Path file, String tensor) throws IOException {
        byte[] bytes = Files.readAllBytes(file);
        long n = ByteBuffer.wrap(bytes, 0, 8).order(ByteOrder.LITTLE_ENDIAN).getLong();
        JsonNode header = Json.STRICT.readTree(new String(bytes, 8, (int) n, java.nio.charset.StandardCharsets.UTF_8));
        return 8 + n + header.get(tensor).get("data_offsets").get(0).asLong();
    }

    @Test
    void unexpectedCheckpointTensorsAreReportedNotFatal() {
        ToyCheckpoint.standard()
                .put("encoder.extra.weight", ToyCheckpoint.floats(Shape.of(2), 7))
                .put("stray", ToyCheckpoint.floats(Shape.of(3), 8))
                .write(dir);
        try (LoadedModel m = loader().load(dir, LoadOptions.defaults())) {
            assertEquals(Set.of("encoder.extra.weight", "stray"), new HashSet<>(m.report().unexpectedKeys()));
            assertTrue(m.report().warnings().stream().anyMatch(w -> w.contains("'stray'")), m.report().warnings().toString());
            assertArrayEquals(expected(INTERMEDIATE * HIDDEN, 1), tensor(m, "encoder.proj.weight").toFloatArray());
        }
    }

    @Test
    void checkpointTensorNamedLikeNonPersistentBufferIsIgnoredAndRecomputed() {
        ToyCheckpoint.standard().put("encoder.rope.table", ToyCheckpoint.floats(Shape.of(TABLE), 9)).write(dir);
        try (LoadedModel m = loader().load(dir, LoadOptions.defaults())) {
            assertArrayEquals(expectedTable(), tensor(m, "encoder.rope.table").toFloatArray());
            assertTrue(m.report().warnings().stream().anyMatch(w -> w.contains("'encoder.rope.table'") && w.contains("non-persistent")),
                    m.report().warnings().toString());
            assertEquals(List.of(), m.report().unexpectedKeys());
            assertEquals(List.of("encoder.rope.table"), m.report().initializedBuffers());
        }
    }

    @Test
    void integerAndFloatDtypesDoNotConvert() {
        Tensor i32 = Tensor.allocate(Shape.of(INTERMEDIATE), DType.I32, Arena.ofAuto());
        ToyCheckpoint.standard()
                .put("encoder.rope.position_ids", ToyCheckpoint.floats(Shape.of(TABLE), 2)) // model: I64
                .put("encoder.proj.bias", i32)                                             // model: F32
                .write(dir);
        LoadException e = loadFails(dir, LoadOptions.defaults());
        assertEquals(2, e.problems().size(), e.getMessage());
        for (Problem p : e.problems()) assertEquals(ErrorId.TENSOR_DTYPE_MISMATCH, p.id());
        assertEquals(Set.of("encoder.rope.position_ids", "encoder.proj.bias"),
                new HashSet<>(e.problems().stream().map(Problem::tensor).toList()));
        Problem ids = e.problems().stream().filter(p -> p.tensor().equals("encoder.rope.position_ids")).findFirst().orElseThrow();
        assertTrue(ids.message().contains("F32") && ids.message().contains("I64"), ids.message());
    }

    // ---------------------------------------------------------------- dtype conversion

    @Test
    void f32ToBf16ConversionRoundsToNearestEven() {
        int[] source = {
                0x3F808000, // 1.00390625: exactly half way, upper half even   → stays 0x3F80
                0x3F818000, // half way, upper half odd                        → 0x3F82
                0x3F808001, // just above half                                 → 0x3F81
                0x3F807FFF, // just below half                                 → 0x3F80
                0xBF818000, // negative tie, odd                               → 0xBF82
                0x7F7FFFFF, // largest finite float                            → +Inf
                0x7FC00000, // NaN                                             → quiet NaN 0x7FC0
                0x7F800001, // signalling NaN                                  → quiet NaN 0x7FC0
                0x80000000, // -0.0
                0x00018000, // subnormal tie, odd                              → 0x0002
                0x7F800000, // +Inf
                0x40490FDB, // pi, below half                                  → 0x4049
        };
        short[] bf16 = {0x3F80, 0x3F82, 0x3F81, 0x3F80, (short) 0xBF82, 0x7F80, 0x7FC0, 0x7FC0, (short) 0x8000, 0x0002, 0x7F80, 0x4049};
        int n = INTERMEDIATE * HIDDEN;
        int[] all = new int[n];
        short[] want = new short[n];
        for (int i = 0; i < n; i++) {
            all[i] = i < source.length ? source[i] : 0x40000000 | (i << 16); // exactly representable in BF16
            want[i] = i < source.length ? bf16[i] : (short) ((0x40000000 | (i << 16)) >>> 16);
        }
        Tensor weight = Tensor.allocate(Shape.of(INTERMEDIATE, HIDDEN), DType.F32, Arena.ofAuto());
        for (int i = 0; i < n; i++) weight.data().setAtIndex(ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN), i, all[i]);
        ToyCheckpoint.standard().put("encoder.proj.weight", weight).write(dir);

        try (LoadedModel m = loader().load(dir, LoadOptions.builder().dtype(DType.BF16).build())) {
            Tensor w = tensor(m, "encoder.proj.weight");
            assertEquals(DType.BF16, w.dtype());
            assertArrayEquals(want, ToyCheckpoint.readShorts(w));
            assertEquals(DType.BF16, tensor(m, "encoder.norm.weight").dtype());
            assertEquals(DType.F32, tensor(m, "encoder.rope.table").dtype(), "a buffer that declares its dtype keeps it");
            assertEquals(DType.I64, tensor(m, "encoder.rope.position_ids").dtype());
            assertEquals("BF16", m.report().dtype());
        }
    }

    // ---------------------------------------------------------------- memory

    @Test
    void memoryBudgetIsCheckedBeforeAnythingIsAllocated() {
        ToyCheckpoint.standard().write(dir);
        // COPIED: proj.weight 96 + proj.bias 24 + norm.weight 24 + position_ids 40, plus the recomputed table 20
        long needed = 96 + 24 + 24 + 40 + 20;
        LoadOptions tight = LoadOptions.builder().residency(Residency.COPIED).memoryBudgetBytes(needed - 1).build();
        long totalBefore = OffHeap.totalAllocatedBytes(), liveBefore = OffHeap.liveBytes();
        LoadException e = loadFails(dir, tight);
        assertEquals(totalBefore, OffHeap.totalAllocatedBytes(), "nothing may be allocated before the budget check");
        assertEquals(liveBefore, OffHeap.liveBytes());
        assertEquals(ErrorId.MEMORY_BUDGET_EXCEEDED, e.id());
        assertTrue(e.getMessage().contains(needed + " B"), e.getMessage());

        LoadOptions exact = LoadOptions.builder().residency(Residency.COPIED).memoryBudgetBytes(needed).build();
        try (LoadedModel m = loader().load(dir, exact)) {
            assertEquals(needed, m.report().bytesAllocated());
        }
    }

    @Test
    void architectureThatAllocatesInBuildIsRefused() {
        ToyCheckpoint c = ToyCheckpoint.standard();
        c.config = "{\"architectures\": [\"AllocatingForTest\"]}";
        c.write(dir);
        LoadException e = loadFails(dir, LoadOptions.defaults());
        assertEquals(ErrorId.ALLOCATED_ON_META, e.id());
        assertTrue(e.getMessage().contains("'w.weight'") && e.getMessage().contains("allocating"), e.getMessage());
    }

    @Test
    void nonPersistentBufferWithoutInitializerIsRejectedAtRegistration() {
        LoadException direct = assertThrows(LoadException.class, TestArchitectures.BufferWithoutInitializer::new);
        assertEquals(ErrorId.BUFFER_WITHOUT_INITIALIZER, direct.id());
        assertTrue(direct.getMessage().contains("'inv_freq'"), direct.getMessage());

        ToyCheckpoint c = ToyCheckpoint.standard();
        c.config = "{\"architectures\": [\"NoInitializerForTest\"]}";
        c.write(dir);
        LoadException e = assertThrows(LoadException.class, () -> loader().load(dir, LoadOptions.defaults()));
        assertEquals(ErrorId.BUFFER_WITHOUT_INITIALIZER, e.id());
        assertTrue(e.getMessage().contains("'inv_freq'") && e.getMessage().contains("initializer"), e.getMessage());
    }

    @Test
    void tensorLeftOnMetaIsReportedNamingIt() {
        ToyCheckpoint.standard().write(dir);
        LoadException e = assertThrows(LoadException.class, () -> lateSwapLoader().load(dir,
                LoadOptions.builder().quantize("late", Map.of()).build()).close());
        assertEquals(ErrorId.TENSOR_LEFT_ON_META, e.id());
        assertEquals(1, e.problems().size(), e.getMessage());
        String msg = e.problems().getFirst().message();
        assertTrue(msg.contains("'encoder.norm.weight'") && msg.contains("parameter of RmsNorm"), msg);
    }

    /**
     * TENSOR_LEFT_ON_META cannot be reached through a well-behaved provider: the planner assigns every
     * slot a source or fails. It is reached through a plugin that changes the tree after the plan
     * took its snapshot: this quantizer swaps encoder.norm for a fresh META RmsNorm in
     * {@code planTensor} instead of in {@code replaceWithQuantized}, so nothing ever fills it.
     */
    private static Loader lateSwapLoader() {
        Module[] rootHolder = new Module[1];
        Quantizer q = new Quantizer() {
            public String name() { return "late"; }
            public Set<Capability> capabilities() { return Set.of(Capability.QUANTIZE_ON_LOAD); }
            public void replaceWithQuantized(Module root, QuantizationConfig config) { rootHolder[0] = root; }

            @Override
            public TensorAction planTensor(String key, TensorInfo source, Module owner, String localName) {
                if (key.equals("encoder.norm.weight")) {
                    rootHolder[0].replace("encoder.norm", MetaDevice.withMetaDevice(() -> new RmsNorm(INTERMEDIATE, 1e-6, DType.F32)));
                }
                return TensorAction.COPY;
            }
        };
        QuantizerProvider p = new QuantizerProvider() {
            public String name() { return "late"; }
            public Quantizer create(QuantizationConfig config) { return q; }
        };
        return loader(p);
    }

    // ---------------------------------------------------------------- ties

    @Test
    void tiedTargetMissingSharesTheSourceTensor() {
        ToyCheckpoint.standard().withVocab(true, true, false).write(dir);
        try (LoadedModel m = loader().load(dir, LoadOptions.defaults())) {
            assertSame(tensor(m, "embed.weight"), tensor(m, "lm_head.weight"));
            assertArrayEquals(expected(ToyCheckpoint.VOCAB * HIDDEN, 4), tensor(m, "lm_head.weight").toFloatArray());
            assertEquals(List.of(), m.report().missingKeys());
        }
    }

    @Test
    void tiedSourceMissingTiesTheOtherWay() {
        ToyCheckpoint.standard().withVocab(true, false, true).write(dir);
        try (LoadedModel m = loader().load(dir, LoadOptions.defaults())) {
            assertSame(tensor(m, "lm_head.weight"), tensor(m, "embed.weight"));
            assertArrayEquals(expected(ToyCheckpoint.VOCAB * HIDDEN, 5), tensor(m, "embed.weight").toFloatArray());
            assertEquals(List.of(), m.report().missingKeys());
        }
    }

    @Test
    void tiedBothPresentAreNotTiedAndWarn() {
        ToyCheckpoint.standard().withVocab(true, true, true).write(dir);
        try (LoadedModel m = loader().load(dir, LoadOptions.defaults())) {
            assertNotSame(tensor(m, "embed.weight"), tensor(m, "lm_head.weight"));
            assertArrayEquals(expected(ToyCheckpoint.VOCAB * HIDDEN, 4), tensor(m, "embed.weight").toFloatArray());
            assertArrayEquals(expected(ToyCheckpoint.VOCAB * HIDDEN, 5), tensor(m, "lm_head.weight").toFloatArray());
            assertTrue(m.report().warnings().stream().anyMatch(w -> w.contains("not tied") && w.contains("lm_head.weight")),
                    m.report().warnings().toString());
        }
    }

    @Test
    void withoutTieWordEmbeddingsAMissingHeadIsMissing() {
        ToyCheckpoint.standard().withVocab(false, true, false).write(dir);
        LoadException e = loadFails(dir, LoadOptions.defaults());
        assertEquals(ErrorId.MISSING_KEY, e.id());
        assertTrue(e.getMessage().contains("'lm_head.weight'"), e.getMessage());
    }

    @Test
    void tieBetweenDifferentShapesFailsInThePlanBeforeAllocating() {
        ToyCheckpoint c = ToyCheckpoint.standard().remove("encoder.proj.weight");
        c.config = c.config.replace(ToyArchitecture.ARCHITECTURE, "MisTiedForTest");
        c.write(dir);
        long totalBefore = OffHeap.totalAllocatedBytes();
        LoadException e = loadFails(dir, LoadOptions.builder().residency(Residency.COPIED).build());
        assertEquals(ErrorId.TENSOR_SHAPE_MISMATCH, e.id(), e.getMessage());
        assertTrue(e.getMessage().contains("encoder.proj.weight") && e.getMessage().contains("encoder.proj.bias"), e.getMessage());
        assertEquals(totalBefore, OffHeap.totalAllocatedBytes(), "a bad tie must be found before anything is allocated");
    }

    // ---------------------------------------------------------------- resources

    @Test
    void failedPlanLeavesNoLiveAllocation() {
        ToyCheckpoint.standard().put("encoder.proj.weight", ToyCheckpoint.floats(Shape.of(INTERMEDIATE, HIDDEN + 1), 1)).write(dir);
        long before = OffHeap.liveBytes();
        loadFails(dir, LoadOptions.builder().residency(Residency.COPIED).build());
        assertEquals(before, OffHeap.liveBytes());
    }

    @Test
    void failureAfterAllocationLeavesNoLiveAllocation() {
        ToyCheckpoint.standard().write(dir);
        long before = OffHeap.liveBytes();
        LoadException e = assertThrows(LoadException.class, () -> lateSwapLoader().load(dir,
                LoadOptions.builder().quantize("late", Map.of()).residency(Residency.COPIED).build()).close());
        assertEquals(ErrorId.TENSOR_LEFT_ON_META, e.id());
        assertEquals(before, OffHeap.liveBytes(), "the arena of a failed load is freed, and the accounting must say so");
    }

    @Test
    void closingALoadedModelReturnsItsMemory() {
        ToyCheckpoint.standard().write(dir);
        long before = OffHeap.liveBytes();
        LoadedModel m = loader().load(dir, LoadOptions.builder().residency(Residency.COPIED).build());
        assertTrue(OffHeap.liveBytes() > before);
        m.close();
        assertEquals(before, OffHeap.liveBytes());
    }

    @Test
    void oneThreadAndFourThreadsGiveIdenticalTensors() {
        // 3072 x 512 F32 = 6 MiB: more than one 4 MiB chunk for copies and conversions
        ToyCheckpoint.sized(512, 3072, 64).write(dir);
        for (LoadOptions.Builder b : List.of(LoadOptions.builder().residency(Residency.COPIED), LoadOptions.builder().dtype(DType.BF16))) {
            try (LoadedModel one = loader().load(dir, b.threads(1).build()); LoadedModel four = loader().load(dir, b.threads(4).build())) {
                assertEquals(4, four.report().threads());
                Map<String, Tensor> a = slotsOf(one), c = slotsOf(four);
                assertEquals(a.keySet(), c.keySet());
                for (String k : a.keySet()) {
                    assertEquals(a.get(k).dtype(), c.get(k).dtype(), k);
                    assertEquals(-1, a.get(k).data().mismatch(c.get(k).data()), k + " differs between 1 and 4 threads");
                }
                Tensor w = a.get("encoder.proj.weight");
                if (w.dtype() == DType.F32) assertArrayEquals(expected(3072L * 512, 1), w.toFloatArray());
            }
        }
    }

    private static Map<String, Tensor> slotsOf(LoadedModel m) {
        Map<String, Tensor> out = new LinkedHashMap<>();
        for (NamedSlot ns : m.root().namedSlots()) out.put(ns.path(), ns.slot().get());
        return out;
    }

    @Test
    void closingTwiceIsHarmlessAndUseAfterCloseIsAClearError() {
        ToyCheckpoint.standard().write(dir);
        LoadedModel m = loader().load(dir, LoadOptions.defaults());
        assertFalse(m.isClosed());
        m.close();
        assertDoesNotThrow(m::close);
        assertTrue(m.isClosed());
        QLoadException e = assertThrows(QLoadException.class, m::root);
        assertEquals(ErrorId.MODEL_CLOSED, e.id());
        assertTrue(e.getMessage().contains(dir.toString()), e.getMessage());
    }

    // ---------------------------------------------------------------- reports

    @Test
    void traceHasACompleteEventPerPhase() {
        ToyCheckpoint.standard().write(dir);
        try (LoadedModel m = loader().load(dir, LoadOptions.builder().residency(Residency.COPIED).build())) {
            JsonNode trace = TraceEvents.toJson(m.report());
            JsonNode events = trace.get("traceEvents");
            assertTrue(events != null && events.isArray(), trace.toString());
            Set<String> phases = new HashSet<>();
            for (JsonNode ev : events) {
                if (ev.get("ph").asString().equals("X") && ev.get("cat").asString().equals("phase")) {
                    phases.add(ev.get("name").asString());
                    assertTrue(ev.get("ts").isNumber() && ev.get("dur").isNumber() && ev.get("dur").asDouble() > 0, ev.toString());
                }
            }
            assertEquals(Set.of("open", "build_meta", "plan", "materialize", "finish"), phases);
            assertEquals(m.report().phases().stream().map(Phase::name).toList(), List.of("open", "build_meta", "plan", "materialize", "finish"));
            // copies in the materialize phase show up as task events too
            boolean anyTask = false;
            for (JsonNode ev : events) anyTask |= ev.get("ph").asString().equals("X") && ev.get("cat").asString().equals("task");
            assertTrue(anyTask, trace.toString());
        }
    }

    @Test
    void reportJsonKeepsItsFieldNames() {
        ToyCheckpoint.standard().write(dir);
        try (LoadedModel m = loader().load(dir, LoadOptions.defaults())) {
            JsonNode json = m.report().toJson();
            List<String> names = new ArrayList<>(json.propertyNames());
            assertEquals(List.of("checkpoint", "architecture", "quantization", "dtype", "total_ms", "phases", "threads", "files", "tensors",
                    "parameters", "bytes_read", "bytes_mapped", "bytes_allocated", "peak_offheap_bytes", "model_bytes", "missing_keys",
                    "unexpected_keys", "mismatched_keys", "initialized_buffers", "warnings"), names);
            assertEquals(List.of("open", "build_meta", "plan", "materialize", "finish"), new ArrayList<>(json.get("phases").propertyNames()));
            assertEquals("encoder.rope.table", json.get("initialized_buffers").get(0).asString());
            assertEquals(4, json.get("tensors").asInt());
        }
    }

    @Test
    void loadedModelKeepsTheConfigItWasBuiltFrom() {
        ToyCheckpoint.standard().write(dir);
        try (LoadedModel m = loader().load(dir, LoadOptions.defaults())) {
            ModelConfig cfg = m.config();
            assertEquals(HIDDEN, cfg.intValue("hidden_size"));
            assertEquals(dir.resolve("config.json"), cfg.source());
        }
    }
}
