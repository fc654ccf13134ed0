package dev.qload.timm;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.qload.core.QLoad;
import dev.qload.core.error.ErrorId;
import dev.qload.core.error.LoadException;
import dev.qload.core.kernel.Kernels;
import dev.qload.core.load.LoadOptions;
import dev.qload.core.load.LoadedModel;
import dev.qload.core.module.NamedSlot;
import dev.qload.core.tensor.OffHeap;
import dev.qload.core.tensor.Tensor;
import dev.qload.tests.CheckpointEdits;
import java.lang.foreign.ValueLayout;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * BatchNorm's buffers are persistent: running statistics must come from the checkpoint, while a
 * missing {@code num_batches_tracked} becomes 0, as torch's {@code _BatchNorm._load_from_state_dict}
 * does for checkpoints without a version (safetensors files never carry one).
 */
class BatchNormStatisticsTest {
    @TempDir
    Path tmp;

    @Test
    void runningStatisticsAndBatchCountComeFromTheCheckpoint() {
        Map<String, Tensor> checkpoint = TimmFixtures.read(TimmFixtures.dir("resnet-tiny").resolve("model.safetensors"));
        try (LoadedModel m = QLoad.load(TimmFixtures.dir("resnet-tiny"), LoadOptions.defaults())) {
            int seen = 0;
            for (NamedSlot ns : m.root().namedSlots()) {
                if (!ns.path().contains("running_") && !ns.path().endsWith("num_batches_tracked")) continue;
                Tensor want = checkpoint.get(ns.path());
                assertEquals(-1, want.data().mismatch(ns.slot().get().data()), ns.path());
                seen++;
            }
            assertEquals(checkpoint.keySet().stream().filter(k -> k.contains("running_") || k.endsWith("num_batches_tracked")).count(), seen);
            assertTrue(m.report().warnings().isEmpty(), m.report().warnings().toString());
        }
    }

    @Test
    void missingBatchCountIsZeroAndChangesNothingInEvalMode() {
        Path dir = CheckpointEdits.rewrite(TimmFixtures.dir("resnet-tiny"), tmp.resolve("old-bn"),
                t -> t.keySet().removeIf(k -> k.endsWith("num_batches_tracked")));
        float[] expected = TimmFixtures.referenceLogits("resnet-tiny");
        Tensor pixels = TimmFixtures.pixelValues("resnet-tiny");
        try (LoadedModel m = QLoad.load(dir, LoadOptions.defaults())) {
            for (NamedSlot ns : m.root().namedSlots()) {
                if (ns.path().endsWith("num_batches_tracked")) {
                    assertEquals(0L, ns.slot().get().data().get(ValueLayout.JAVA_LONG_UNALIGNED, 0), ns.path());
                }
            }
            assertTrue(m.report().warnings().stream().anyMatch(w -> w.contains("bn1.num_batches_tracked")), m.report().warnings().toString());
            float[] logits = ImageClassification.of(m, Kernels.get()).logits(pixels, "test");
            assertTrue(TimmFixtures.maxAbsDiff(logits, expected) <= TimmForwardTest.TOLERANCE);
        }
    }

    @Test
    void missingRunningVarianceFailsNamingIt() {
        Path dir = CheckpointEdits.rewrite(TimmFixtures.dir("resnet-tiny"), tmp.resolve("no-var"),
                t -> t.remove("layer2.0.bn1.running_var"));
        long live = OffHeap.liveBytes();
        LoadException e = assertThrows(LoadException.class, () -> QLoad.load(dir, LoadOptions.defaults()).close());
        assertEquals(ErrorId.MISSING_KEY, e.id());
        assertTrue(e.getMessage().contains("'layer2.0.bn1.running_var'"), e.getMessage());
        assertEquals(live, OffHeap.liveBytes());
    }

    @Test
    void batchCountKeepsItsOwnDtype() {
        try (LoadedModel m = QLoad.load(TimmFixtures.dir("resnet-tiny"), LoadOptions.builder().dtype(dev.qload.core.tensor.DType.BF16).build())) {
            for (NamedSlot ns : m.root().namedSlots()) {
                if (ns.path().endsWith("num_batches_tracked")) assertEquals(dev.qload.core.tensor.DType.I64, ns.slot().get().dtype(), ns.path());
                if (ns.path().endsWith("running_var")) assertEquals(dev.qload.core.tensor.DType.BF16, ns.slot().get().dtype(), ns.path());
            }
        }
    }
}
