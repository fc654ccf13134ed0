package dev.qload.quantizers.mxfp4;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.qload.core.error.ErrorId;
import dev.qload.core.error.Problem;
import dev.qload.core.error.QLoadException;
import dev.qload.core.load.LoadOptions;
import dev.qload.core.tensor.DType;
import dev.qload.core.tensor.OffHeap;
import dev.qload.core.tensor.Shape;
import dev.qload.core.tensor.Tensor;
import dev.qload.tests.CheckpointEdits;
import java.io.IOException;
import java.lang.foreign.ValueLayout;
import java.nio.file.Path;
import java.util.Map;
import java.util.function.Consumer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Damaged MXFP4 checkpoints fail with a typed error that names the tensor and says what was expected,
 * on the zero-copy path and on the {@code dequantize: true} path, and a failed load gives back
 * every byte it allocated.
 */
class Mxfp4HostileInputTest {
    static final String GATE_UP = "model.layers.1.mlp.experts.gate_up_proj";

    @TempDir
    Path dir;

    private Path damaged(Path source, String name, Consumer<Map<String, Tensor>> edit) {
        return CheckpointEdits.rewrite(source, dir.resolve(name), edit);
    }

    /** Loads {@code checkpoint}, expects {@code id} naming {@code tensor} with {@code detail}, and checks nothing leaked. */
    private void assertRefused(Path checkpoint, ErrorId id, String tensor, String detail) {
        long live = OffHeap.liveBytes();
        QLoadException e = assertThrows(QLoadException.class, () -> Mxfp4ModelTest.loader().load(checkpoint, LoadOptions.defaults()).close());
        Problem p = e.problems().stream().filter(q -> tensor.equals(q.tensor()) || q.message().contains("'" + tensor + "'")).findFirst()
                .orElseThrow(() -> new AssertionError("no problem names '" + tensor + "': " + e.getMessage()));
        assertEquals(id, p.id(), e.getMessage());
        assertTrue(p.message().contains(detail), p.render());
        assertEquals(live, OffHeap.liveBytes(), "a failed load gives back what it allocated");
    }

    private static Tensor reshaped(Tensor t, Shape shape) {
        Tensor out = Tensor.allocate(shape, t.dtype(), java.lang.foreign.Arena.ofAuto());
        long n = Math.min(t.byteSize(), out.byteSize());
        java.lang.foreign.MemorySegment.copy(t.data(), 0, out.data(), 0, n);
        return out;
    }

    private Path dequantizeConfig(Path source) throws IOException {
        return Mxfp4ModelTest.withConfig(source, dir.resolve(source.getFileName() + "-dequantize"), "\"quant_method\": \"mxfp4\"",
                "\"dequantize\": true, \"quant_method\": \"mxfp4\"");
    }

    @Test
    void scalesOfTheWrongShapeAreNamedWithTheExpectedShape() throws IOException {
        String scales = GATE_UP + "_scales";
        Path bad = damaged(Mxfp4ModelTest.MXFP4, "short-scales", t -> t.put(scales, reshaped(t.get(scales), Shape.of(4, 63, 2))));
        assertRefused(bad, ErrorId.TENSOR_SHAPE_MISMATCH, scales, "[4, 64, 2]");
        assertRefused(dequantizeConfig(bad), ErrorId.TENSOR_SHAPE_MISMATCH, scales, "[4, 64, 2]");
    }

    @Test
    void blocksWithAWrongTrailingDimensionAreNamedWithTheExpectedShape() throws IOException {
        String blocks = GATE_UP + "_blocks";
        Path bad = damaged(Mxfp4ModelTest.MXFP4, "blocks-of-8", t -> t.put(blocks, reshaped(t.get(blocks), Shape.of(4, 64, 4, 8))));
        assertRefused(bad, ErrorId.TENSOR_SHAPE_MISMATCH, blocks, "[4, 64, 2, 16]");
        assertRefused(dequantizeConfig(bad), ErrorId.TENSOR_SHAPE_MISMATCH, blocks, "[4, 64, 2, 16]");
    }

    @Test
    void blocksStoredAsAnotherDtypeAreRefused() throws IOException {
        String blocks = GATE_UP + "_blocks";
        Path bad = damaged(Mxfp4ModelTest.MXFP4, "blocks-i8", t -> t.put(blocks, Tensor.wrap(t.get(blocks).shape(), DType.I8, t.get(blocks).data())));
        assertRefused(bad, ErrorId.TENSOR_DTYPE_MISMATCH, blocks, "I8");
        assertRefused(dequantizeConfig(bad), ErrorId.TENSOR_DTYPE_MISMATCH, blocks, "must be U8");
    }

    @Test
    void missingScalesAreNamed() throws IOException {
        String scales = GATE_UP + "_scales";
        Path bad = damaged(Mxfp4ModelTest.MXFP4, "no-scales", t -> t.remove(scales));
        assertRefused(bad, ErrorId.MISSING_KEY, scales, "[4, 64, 2]");
        assertRefused(dequantizeConfig(bad), ErrorId.MISSING_KEY, scales, "[4, 64, 2]");
    }

    @Test
    void aNanScaleIsRefusedAtLoadNamingTheTensorAndTheGroup() throws IOException {
        String scales = GATE_UP + "_scales";
        Path bad = damaged(Mxfp4ModelTest.MXFP4, "nan-scale", t -> t.get(scales).data().set(ValueLayout.JAVA_BYTE, 2 * 64 * 2 + 5 * 2 + 1, (byte) 0xFF));
        assertRefused(bad, ErrorId.E8M0_NAN_SCALE, scales, "expert 2, row 5, group 1");
        assertRefused(dequantizeConfig(bad), ErrorId.E8M0_NAN_SCALE, scales, "expert 2, row 5, group 1");
    }

    @Test
    void aDenseExpertWeightOfTheWrongShapeIsNamedWhenQuantizingOnLoad() {
        Path bad = damaged(Mxfp4ModelTest.BF16, "dense-short", t -> t.put(GATE_UP, reshaped(t.get(GATE_UP), Shape.of(4, 64, 32))));
        long live = OffHeap.liveBytes();
        QLoadException e = assertThrows(QLoadException.class, () -> Mxfp4ModelTest.loader()
                .load(bad, LoadOptions.builder().quantize("mxfp4", Map.of()).build()).close());
        assertEquals(ErrorId.TENSOR_SHAPE_MISMATCH, e.id());
        assertEquals(GATE_UP, e.problems().getFirst().tensor());
        assertTrue(e.getMessage().contains("[4, 64, 64]"), e.getMessage());
        assertEquals(live, OffHeap.liveBytes());
    }

    @Test
    void dequantizeWithoutAPreQuantizedCheckpointIsAConfigError() {
        QLoadException e = assertThrows(QLoadException.class, () -> Mxfp4ModelTest.loader()
                .load(Mxfp4ModelTest.BF16, LoadOptions.builder().quantize("mxfp4", Map.of("dequantize", true)).build()).close());
        assertEquals(ErrorId.CONFIG_INVALID, e.id());
    }
}
