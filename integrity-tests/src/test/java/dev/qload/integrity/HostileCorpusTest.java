package dev.qload.integrity;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import dev.qload.core.QLoad;
import dev.qload.core.error.ErrorId;
import dev.qload.core.error.QLoadException;
import dev.qload.core.load.LoadOptions;
import dev.qload.core.load.LoadedModel;
import dev.qload.core.safetensors.SafetensorsHeaderParser;
import dev.qload.core.tensor.OffHeap;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Every checkpoint of testdata/hostile through the whole load pipeline ({@link QLoad#load}, with the
 * Llama family, bitsandbytes and GPTQ on the classpath): each must end in the typed error its rule
 * names, and leave nothing behind — off-heap memory back to where it was, none of its files still
 * mapped. A family's control checkpoint must load (so each hostile case differs from a loadable one
 * by its one broken rule). Time, heap allocated and peak off-heap are recorded, not asserted
 * (integrity-tests/target/integrity/hostile-corpus.md; docs/INTEGRITY.md has a run's table).
 */
class HostileCorpusTest {
    private static final FailureCost COST = new FailureCost("Hostile corpus (testdata/hostile), one load each", "rule");

    static Stream<HostileCase> runnable() {
        return HostileCase.all().stream().filter(c -> !c.pending());
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("runnable")
    void endsInItsTypedErrorAndReleasesEverything(HostileCase c) {
        Path dir = c.directory();
        ResourceSnapshot before = ResourceSnapshot.of(dir);
        long peakBefore = OffHeap.liveBytes();
        OffHeap.resetPeak();
        long start = System.nanoTime();
        String outcome;
        QLoadException error = null;
        try (LoadedModel model = QLoad.load(dir, LoadOptions.builder().threads(2).build())) {
            outcome = HostileCase.LOADS;
            assertNotNull(model.root());
        } catch (QLoadException e) {
            error = e;
            outcome = e.id().id();
        } catch (RuntimeException | Error e) {
            throw new AssertionError(c + " (" + c.rule() + ") must end in " + c.expect() + " but threw an untyped " + e, e);
        }
        double millis = (System.nanoTime() - start) / 1e6;
        ResourceSnapshot after = ResourceSnapshot.of(dir);
        COST.add(new FailureCost.Row(c.name(), c.rule(), outcome, millis, after.heapAllocated() - before.heapAllocated(),
                Math.max(0, OffHeap.peakBytes() - peakBefore)));

        String message = error == null ? "it loaded" : error.getMessage();
        assertEquals(c.expect(), outcome, () -> c + " (" + c.rule() + "): " + message);
        if (error != null) {
            assertTrue(error.getMessage().contains("[" + c.expect() + "]"), "the message carries the stable id: " + message);
            assertTrue(error.problems().stream().allMatch(p -> p.file() != null || p.tensor() != null),
                    () -> "every problem names a file or a tensor: " + message);
            assertTrue(error.problems().stream().allMatch(p -> p.file() != null || !inCheckpoint(c, p.tensor())),
                    () -> "a problem about a tensor of the checkpoint names its file: " + message);
        }
        assertEquals(before.offHeapLive(), after.offHeapLive(), "off-heap memory must return to its level before the load");
        assertEquals(List.of(), after.mappedFiles(), "no file of the case may stay mapped");
    }

    /**
     * The one case too big to commit: a header of exactly the reference reader's 100 MB limit
     * (MAX_HEADER_SIZE), built at run time as a sparse file, 100 MB of NUL bytes (valid UTF-8, not
     * JSON). The header must be read to be judged, so the cost is about its size once; measured.
     */
    @Test
    void aHeaderOfTheFullHundredMegabytesIsRejectedAfterOneRead(@TempDir Path dir) throws IOException {
        Files.copy(Repo.testdata("hostile/config/control/config.json"), dir.resolve("config.json"));
        long n = SafetensorsHeaderParser.MAX_HEADER_SIZE;
        try (RandomAccessFile f = new RandomAccessFile(dir.resolve("model.safetensors").toFile(), "rw")) {
            f.write(ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(n).array());
            f.setLength(8 + n); // sparse: no disk blocks for the zeros
        }
        ResourceSnapshot before = ResourceSnapshot.of(dir);
        long start = System.nanoTime();
        QLoadException e = assertThrows(QLoadException.class, () -> QLoad.load(dir).close());
        double millis = (System.nanoTime() - start) / 1e6;
        ResourceSnapshot after = ResourceSnapshot.of(dir);
        COST.add(new FailureCost.Row("(run time) 100 MB header", "a header of exactly MAX_HEADER_SIZE bytes, all NUL (sparse file made by the test)",
                e.id().id(), millis, after.heapAllocated() - before.heapAllocated(), 0));
        assertEquals(ErrorId.INVALID_HEADER_JSON, e.id(), e::getMessage);
        assertEquals(before.offHeapLive(), after.offHeapLive());
        assertEquals(List.of(), after.mappedFiles());
    }

    /** Whether a weight file of the case holds {@code tensor} (read from the headers, without qload). */
    private static boolean inCheckpoint(HostileCase c, String tensor) {
        if (tensor == null) return false;
        try (var files = Files.list(c.directory())) {
            return files.filter(f -> f.toString().endsWith(".safetensors")).anyMatch(f -> {
                try {
                    return new String(Files.readAllBytes(f), java.nio.charset.StandardCharsets.ISO_8859_1).contains("\"" + tensor + "\"");
                } catch (IOException e) {
                    return false;
                }
            });
        } catch (IOException e) {
            return false;
        }
    }

    @Test
    void everyRuleOfTheIssueHasACorpusEntry() {
        List<String> names = HostileCase.all().stream().map(HostileCase::name).toList();
        for (String required : List.of("safetensors/header-length-beyond-file", "safetensors/header-length-over-100mb",
                "safetensors/header-invalid-utf8", "safetensors/json-bomb-deep-arrays", "safetensors/duplicate-tensor-name",
                "safetensors/overlapping-offsets", "safetensors/offset-out-of-range", "safetensors/shape-product-overflows",
                "safetensors/negative-dimension", "safetensors/fractional-dimension", "safetensors/unknown-dtype",
                "safetensors/trailing-bytes", "index/names-missing-shard", "index/names-missing-tensor", "bnb/state-shape-lies",
                "gptq/qweight-rows-wrong", "mxfp4/scales-one-group-too-many", "config/hidden-size-string")) {
            assertTrue(names.contains(required), "the corpus lacks " + required);
        }
        assertFalse(HostileCase.all().stream().anyMatch(HostileCase::pending), "every family's code has landed: no case may be pending");
    }

    @AfterAll
    static void writeTable() {
        COST.write("hostile-corpus.md");
    }
}
