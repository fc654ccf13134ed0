package dev.qload.integrity;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.qload.core.QLoad;
import dev.qload.core.checkpoint.Checkpoint;
import dev.qload.core.error.ErrorId;
import dev.qload.core.error.Problem;
import dev.qload.core.error.QLoadException;
import dev.qload.core.integrity.ChecksumManifest;
import dev.qload.core.integrity.VerifyPolicy;
import dev.qload.core.load.LoadOptions;
import dev.qload.core.load.LoadedModel;
import dev.qload.core.load.ProgressListener;
import dev.qload.core.load.Residency;
import dev.qload.core.tensor.DType;
import dev.qload.core.tensor.OffHeap;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Faults in the middle of a load: a weight file truncated while it is mapped (the page faults, the
 * JVM turns the SIGBUS into an {@link InternalError}), a read that fails, a quantizer that throws
 * halfway, the loading thread interrupted. Each must end in a typed {@link QLoadException}, hand out
 * no model, close every mapping and return off-heap memory to its level before the load; and the
 * next load in this JVM must work. The checkpoint is the corpus' minimal Llama, copied to a temporary
 * directory because the tests damage it. Outcomes and costs: integrity-tests/target/integrity/faults.md.
 */
class LoadFaultsTest {
    private static final FailureCost COST = new FailureCost("Faults injected mid-load", "fault");
    private static final Path CONTROL = Repo.testdata("hostile/config/control");

    @TempDir
    Path dir;
    private Path weights;

    @BeforeEach
    void copyTheCheckpoint() throws IOException {
        for (String f : List.of("config.json", "model.safetensors")) Files.copy(CONTROL.resolve(f), dir.resolve(f));
        weights = dir.resolve("model.safetensors");
    }

    /** Runs {@code load}, which must fail; checks everything was released and a fresh copy then loads. */
    private QLoadException failsCleanly(String name, String fault, LoadOptions options) {
        ResourceSnapshot before = ResourceSnapshot.of(dir);
        long peakBefore = OffHeap.liveBytes();
        OffHeap.resetPeak();
        long start = System.nanoTime();
        QLoadException e;
        try {
            e = assertThrows(QLoadException.class, () -> QLoad.load(dir, options).close(), "the load must fail with a typed error");
        } finally {
            Thread.interrupted(); // an interrupt test leaves the flag set on purpose; it has been checked by then
        }
        double millis = (System.nanoTime() - start) / 1e6;
        ResourceSnapshot after = ResourceSnapshot.of(dir);
        COST.add(new FailureCost.Row(name, fault, e.id().id(), millis, after.heapAllocated() - before.heapAllocated(),
                Math.max(0, OffHeap.peakBytes() - peakBefore)));
        assertEquals(before.offHeapLive(), after.offHeapLive(), "off-heap memory must return to its level before the load");
        assertEquals(List.of(), after.mappedFiles(), "no file may stay mapped after a failed load");
        assertNextLoadWorks();
        return e;
    }

    /** The same JVM loads a fresh, undamaged copy of the checkpoint afterwards. */
    private void assertNextLoadWorks() {
        try {
            Files.copy(CONTROL.resolve("model.safetensors"), weights, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        try (LoadedModel model = QLoad.load(dir, LoadOptions.builder().residency(Residency.COPIED).build())) {
            assertNotNull(model.root().namedSlots());
        }
    }

    /**
     * A listener that runs {@code fault} once, on the first progress report of the materialize phase,
     * and holds every other worker's report until it has run. A worker reports after each task and
     * before it takes the next, so every task but the few already running starts after the fault:
     * with 13 tensors and at most 3 threads (2 workers and the caller helping) some always do.
     */
    private static ProgressListener once(Runnable fault) {
        AtomicBoolean first = new AtomicBoolean();
        CountDownLatch done = new CountDownLatch(1);
        return (bytesDone, total) -> {
            if (first.compareAndSet(false, true)) {
                try {
                    fault.run();
                } finally {
                    done.countDown();
                }
            }
            try {
                done.await();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt(); // the interrupt test's own fault: keep it for the loader to see
            }
        };
    }

    private void truncate() {
        try (FileChannel ch = FileChannel.open(weights, StandardOpenOption.WRITE)) {
            ch.truncate(0);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** What actually went wrong stays in the cause chain, for the stack trace a bug report needs. */
    private static void assertCausedBy(Class<? extends Throwable> type, Throwable e) {
        for (Throwable c = e.getCause(); c != null; c = c.getCause()) if (type.isInstance(c)) return;
        throw new AssertionError("no " + type.getSimpleName() + " in the cause chain of " + e, e);
    }

    private static void assertNamesFileAndTensor(QLoadException e, Path file) {
        Problem p = e.problems().getFirst();
        assertEquals(file, p.file(), e::getMessage);
        assertNotNull(p.tensor(), e::getMessage);
        assertTrue(p.offset() >= 0, e::getMessage);
    }

    @Test
    void fileTruncatedWhileCopiedFromItsMappingIsATypedErrorNamingFileAndTensor() {
        QLoadException e = failsCleanly("truncated while mapped (copy)", "model.safetensors truncated to 0 bytes after the first tensor was copied "
                + "(Residency.COPIED, 1 thread)", LoadOptions.builder().threads(1).residency(Residency.COPIED).progress(once(this::truncate)).build());
        assertEquals(ErrorId.MAPPED_FILE_CHANGED, e.id(), e::getMessage);
        assertNamesFileAndTensor(e, weights);
        assertCausedBy(InternalError.class, e);
    }

    @Test
    void fileTruncatedWhileConvertedFromItsMappingIsATypedErrorNamingFileAndTensor() {
        QLoadException e = failsCleanly("truncated while mapped (convert)", "model.safetensors truncated to 0 bytes while F32 weights convert to BF16",
                LoadOptions.builder().threads(2).dtype(DType.BF16).progress(once(this::truncate)).build());
        assertEquals(ErrorId.MAPPED_FILE_CHANGED, e.id(), e::getMessage);
        assertNamesFileAndTensor(e, weights);
    }

    @Test
    void fileTruncatedWhileHashedAndCopiedUnderRequireIsATypedError() {
        try (Checkpoint checkpoint = Checkpoint.open(dir)) {
            ChecksumManifest.compute(checkpoint, 1).write(dir);
        }
        QLoadException e = failsCleanly("truncated while hashed", "truncated to 0 bytes during a --verify require load (hashing and copying)",
                LoadOptions.builder().threads(2).residency(Residency.COPIED).verify(VerifyPolicy.REQUIRE).progress(once(this::truncate)).build());
        assertEquals(ErrorId.MAPPED_FILE_CHANGED, e.id(), e::getMessage);
    }

    @Test
    void aManifestThatCannotBeReadIsFileUnreadable() throws IOException {
        // read(2) on a directory fails with EISDIR: a real I/O error from the kernel, on the first file the verifier reads.
        Files.createDirectory(dir.resolve(ChecksumManifest.FILE_NAME));
        QLoadException e = failsCleanly("I/O error on read", "qload-checksums.json cannot be read (EISDIR from read(2)) under --verify warn",
                LoadOptions.builder().verify(VerifyPolicy.WARN).build());
        assertEquals(ErrorId.FILE_UNREADABLE, e.id(), e::getMessage);
        assertEquals(dir.resolve(ChecksumManifest.FILE_NAME), e.problems().getFirst().file());
    }

    private static LoadOptions faulty(String fail, int after, int threads) {
        return LoadOptions.builder().threads(threads).quantize(FaultyQuantizerProvider.NAME, Map.of("fail", fail, "after", after)).build();
    }

    @Test
    void aQuantizerThatThrowsWhileReplacingModulesIsAPluginError() {
        QLoadException e = failsCleanly("quantizer throws in replaceWithQuantized", "IllegalStateException after replacing the first Linear",
                faulty("replace", 1, 2));
        assertEquals(ErrorId.PLUGIN_CONTRACT, e.id(), e::getMessage);
        assertTrue(e.getMessage().contains(FaultyQuantizerProvider.NAME), "names the quantizer: " + e.getMessage());
        assertCausedBy(IllegalStateException.class, e);
    }

    @Test
    void aQuantizerKernelThatThrowsHalfwayNamesTheTensorItWasQuantizing() {
        QLoadException e = failsCleanly("quantizer kernel throws halfway", "IllegalStateException in the 4th of 7 quantize kernels, 2 threads",
                faulty("kernel", 4, 2));
        assertEquals(ErrorId.MATERIALIZE_FAILED, e.id(), e::getMessage);
        assertEquals(weights, e.problems().getFirst().file(), e::getMessage);
        assertTrue(e.problems().getFirst().tensor().startsWith("model.layers.0."), e::getMessage);
        assertTrue(e.getMessage().contains(FaultyQuantizerProvider.NAME), "names the quantizer: " + e.getMessage());
        assertCausedBy(IllegalStateException.class, e);
    }

    @Test
    void aQuantizerThatThrowsInAfterLoadIsAPluginError() {
        QLoadException e = failsCleanly("quantizer throws in afterLoad", "IllegalStateException once every tensor has landed", faulty("afterLoad", 1, 2));
        assertEquals(ErrorId.PLUGIN_CONTRACT, e.id(), e::getMessage);
    }

    @Test
    void anInterruptedLoadFailsKeepsTheInterruptAndReleasesEverything() {
        Thread loader = Thread.currentThread();
        AtomicBoolean stillInterrupted = new AtomicBoolean();
        ProgressListener interrupt = once(loader::interrupt);
        QLoadException e = assertThrows(QLoadException.class, () -> {
            try {
                QLoad.load(dir, LoadOptions.builder().threads(1).residency(Residency.COPIED).progress(interrupt).build()).close();
            } finally {
                stillInterrupted.set(Thread.currentThread().isInterrupted());
                Thread.interrupted();
            }
        });
        assertTrue(stillInterrupted.get(), "the interrupt must be kept for the caller to see");
        assertTrue(e.getMessage().contains("interrupted"), e::getMessage);
        // the same fault again, measured and checked for leaks by the common path
        failsCleanly("thread interrupted", "the loading thread interrupted after the first tensor was copied (1 thread)",
                LoadOptions.builder().threads(1).residency(Residency.COPIED).progress(once(loader::interrupt)).build());
    }

    @AfterAll
    static void writeTable() {
        COST.write("faults.md");
    }
}
