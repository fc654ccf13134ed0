package dev.qload.integrity;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.qload.core.QLoad;
import dev.qload.core.kernel.Kernels;
import dev.qload.core.load.LoadOptions;
import dev.qload.core.load.LoadedModel;
import dev.qload.core.safetensors.SafetensorsFile;
import dev.qload.core.tensor.DType;
import dev.qload.models.llama.LlamaForCausalLM;
import dev.qload.models.llama.LlamaInference;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.Test;

/**
 * Many threads loading and closing models at once, and one model shared read-only by many threads.
 * Every result is checked against the PyTorch reference logits committed with the fixtures
 * (tools/fixtures: tiny_llama.py, bnb/), and all threads must agree bit for bit with each other;
 * afterwards off-heap memory is back to its level and no fixture file is still mapped.
 */
class ConcurrentLoadsTest {
    private static final int THREADS = 8, ROUNDS = 6;
    /** The fixtures' own bound for F32 logits against PyTorch (LlamaForwardTest, BnbModelTest). */
    private static final float TOLERANCE = 1e-4f;

    /** A load configuration and the reference logits it must give. */
    private record Variant(String name, Path dir, LoadOptions options, String referenceDir, String referenceTensor) {}

    private static List<Variant> variants() {
        return List.of(
                new Variant("tiny-llama zero-copy", Repo.testdata("tiny-llama"), LoadOptions.defaults(), "tiny-llama-reference", "logits"),
                new Variant("tiny-llama copied, 1 thread", Repo.testdata("tiny-llama"),
                        LoadOptions.builder().threads(1).residency(dev.qload.core.load.Residency.COPIED).build(), "tiny-llama-reference", "logits"),
                new Variant("tiny-llama-sharded", Repo.testdata("tiny-llama-sharded"), LoadOptions.defaults(), "tiny-llama-sharded-reference", "logits"),
                new Variant("bnb nf4 pre-quantized", Repo.testdata("bnb/tiny-llama-nf4"), LoadOptions.builder().threads(2).build(),
                        "bnb/tiny-llama-nf4-reference", "logits_dequantized"),
                new Variant("tiny-llama nf4 quantized on load", Repo.testdata("tiny-llama"),
                        LoadOptions.builder().quantize("bitsandbytes", Map.of("load_in_4bit", true, "bnb_4bit_quant_type", "nf4",
                                "bnb_4bit_use_double_quant", true)).build(), "bnb/tiny-llama-nf4-reference", "logits_dequantized"));
    }

    private static float[] reference(String dir, String tensor) {
        try (SafetensorsFile ref = SafetensorsFile.open(Repo.testdata(dir).resolve("reference.safetensors"))) {
            return ref.tensor(tensor).toFloatArray();
        }
    }

    private static int[] inputIds(String dir) {
        float[] ids = reference(dir, "input_ids");
        int[] out = new int[ids.length];
        for (int i = 0; i < ids.length; i++) out[i] = (int) ids[i];
        return out;
    }

    private static float[] logits(LoadedModel model, int[] ids) {
        return new LlamaInference((LlamaForCausalLM) model.root(), Kernels.get(), 64).forward(ids);
    }

    private static void assertNearReference(float[] expected, float[] actual, String what) {
        assertEquals(expected.length, actual.length, what);
        float worst = 0;
        for (int i = 0; i < expected.length; i++) worst = Math.max(worst, Math.abs(expected[i] - actual[i]));
        assertTrue(worst <= TOLERANCE, what + ": max |logit - PyTorch| = " + worst);
    }

    /** Runs {@code task} on {@link #THREADS} threads released together; returns their results. */
    private static <T> List<T> together(Callable<T> task) throws Exception {
        ExecutorService pool = Executors.newFixedThreadPool(THREADS);
        try {
            CountDownLatch gate = new CountDownLatch(1);
            List<Future<T>> futures = new ArrayList<>();
            for (int t = 0; t < THREADS; t++) {
                futures.add(pool.submit(() -> {
                    gate.await();
                    return task.call();
                }));
            }
            gate.countDown();
            List<T> results = new ArrayList<>();
            for (Future<T> f : futures) results.add(f.get());
            return results;
        } finally {
            pool.shutdownNow();
        }
    }

    @Test
    void manyThreadsLoadingAndClosingAtOnceGetTheReferenceLogitsAndLeakNothing() throws Exception {
        List<Variant> variants = variants();
        ResourceSnapshot before = ResourceSnapshot.of(Repo.testdata(""));
        List<float[][]> perThread = together(() -> {
            float[][] seen = new float[variants.size()][];
            for (int round = 0; round < ROUNDS; round++) {
                for (int v = 0; v < variants.size(); v++) {
                    Variant variant = variants.get((v + round) % variants.size()); // threads interleave different variants
                    try (LoadedModel model = QLoad.load(variant.dir(), variant.options())) {
                        float[] out = logits(model, inputIds(variant.referenceDir()));
                        int index = variants.indexOf(variant);
                        if (seen[index] == null) seen[index] = out;
                        else assertArrayEquals(seen[index], out, variant.name() + ": the same load twice on one thread");
                    }
                }
            }
            return seen;
        });
        for (int v = 0; v < variants.size(); v++) {
            Variant variant = variants.get(v);
            assertNearReference(reference(variant.referenceDir(), variant.referenceTensor()), perThread.getFirst()[v], variant.name());
            for (float[][] other : perThread) assertArrayEquals(perThread.getFirst()[v], other[v], variant.name() + ": every thread agrees bit for bit");
        }
        ResourceSnapshot after = ResourceSnapshot.of(Repo.testdata(""));
        assertEquals(before.offHeapLive(), after.offHeapLive(), "off-heap memory back to its level after " + THREADS * ROUNDS * variants.size() + " loads");
        assertEquals(before.mappedFiles(), after.mappedFiles(), "no fixture file left mapped");
    }

    @Test
    void oneModelSharedReadOnlyByManyThreadsGivesEveryThreadTheReferenceLogits() throws Exception {
        int[] ids = inputIds("tiny-llama-reference");
        float[] expected = reference("tiny-llama-reference", "logits");
        for (LoadOptions options : List.of(LoadOptions.defaults(), LoadOptions.builder().dtype(DType.F32).build())) {
            try (LoadedModel shared = QLoad.load(Repo.testdata("tiny-llama"), options)) {
                float[] alone = logits(shared, ids);
                List<float[]> results = together(() -> {
                    float[] last = null;
                    for (int round = 0; round < ROUNDS; round++) last = logits(shared, ids); // each thread its own KV cache, the weights shared
                    return last;
                });
                assertNearReference(expected, alone, "shared model, one thread");
                for (float[] r : results) assertArrayEquals(alone, r, "a thread sharing the model got other logits");
                assertArrayEquals(alone, logits(shared, ids), "the shared weights are unchanged after the threads ran");
            }
        }
    }
}
