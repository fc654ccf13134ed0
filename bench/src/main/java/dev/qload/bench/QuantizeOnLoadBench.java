package dev.qload.bench;

import dev.qload.core.QLoad;
import dev.qload.core.load.LoadOptions;
import dev.qload.core.load.LoadReport;
import dev.qload.core.load.LoadedModel;
import dev.qload.core.load.Residency;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Supplier;

/**
 * Quantize-on-load throughput and memory, every path measured in this one run on the same files
 * (the ~1 GB BF16 synthetic Llama of {@link SyntheticLlama}), interleaved, after a warm-up that
 * puts the files in the page cache:
 *
 * <ol>
 *   <li>the floor: the same bytes read from the page cache into private memory (one thread per
 *       core, each a contiguous range);</li>
 *   <li>qload with the dtype kept, weights copied (resident), the load a quantizer competes with;</li>
 *   <li>qload quantizing to NF4 (double quant) and to LLM.int8 while loading;</li>
 *   <li>Jlama 0.8.4 loading the same directory with its own on-load Q4, in its own JVM.</li>
 * </ol>
 *
 * Peak anonymous memory is sampled from {@code /proc/self/status} (RssAnon) every millisecond
 * during each load, minus the level before it, and set against the bytes the model allocated.
 * Not a test: timings on a shared machine are reported, never asserted.
 *
 * <p>Run: {@code bench/run.sh quantize} or
 * {@code java --add-modules jdk.incubator.vector -cp bench/target/benchmarks.jar dev.qload.bench.QuantizeOnLoadBench [DIR] [REPS]}.
 */
public final class QuantizeOnLoadBench {
    private QuantizeOnLoadBench() {}

    record Sample(double ms, long peakAnonBytes, long allocatedBytes, long sourceBytes) {}

    public static void main(String[] args) throws Exception {
        Path dir = SyntheticLlama.ensure(args.length > 0 ? Path.of(args[0]) : BenchPaths.defaultCheckpointDir(), SyntheticLlama.Spec.halfBillion());
        int reps = args.length > 1 ? Integer.parseInt(args[1]) : 3;
        List<Path> files = new ArrayList<>();
        try (var s = Files.list(dir)) {
            s.filter(p -> p.toString().endsWith(".safetensors")).sorted().forEach(files::add);
        }
        long total = 0;
        for (Path f : files) total += Files.size(f);
        System.out.printf(Locale.ROOT, "checkpoint %s: %d files, %.3f GB BF16; %d cores; %d repetitions, interleaved%n",
                dir, files.size(), total / 1e9, Runtime.getRuntime().availableProcessors(), reps);

        Map<String, Supplier<Sample>> paths = new LinkedHashMap<>();
        long totalBytes = total;
        paths.put("read from page cache (floor)", () -> readFloor(files, totalBytes));
        paths.put("qload, BF16 kept, copied", () -> qload(dir, LoadOptions.builder().residency(Residency.COPIED).build()));
        paths.put("qload, quantize to NF4 (double quant)", () -> qload(dir, LoadOptions.builder().quantize("bitsandbytes",
                Map.of("load_in_4bit", true, "bnb_4bit_quant_type", "nf4", "bnb_4bit_use_double_quant", true)).build()));
        paths.put("qload, quantize to int8", () -> qload(dir, LoadOptions.builder().quantize("bitsandbytes", Map.of("load_in_8bit", true)).build()));

        for (var p : paths.values()) p.get(); // warm-up: page cache and JIT
        Map<String, List<Sample>> samples = new LinkedHashMap<>();
        for (int r = 0; r < reps; r++) for (var p : paths.entrySet()) samples.computeIfAbsent(p.getKey(), k -> new ArrayList<>()).add(p.getValue().get());

        double floor = median(samples.get("read from page cache (floor)"));
        System.out.printf(Locale.ROOT, "%n%-40s %10s %8s %10s %13s %13s %8s%n", "path", "median ms", "spread", "GB/s src", "× floor", "peak anon MB", "alloc MB");
        for (var e : samples.entrySet()) {
            List<Sample> s = e.getValue();
            double m = median(s);
            double spread = s.stream().mapToDouble(Sample::ms).max().orElse(0) - s.stream().mapToDouble(Sample::ms).min().orElse(0);
            Sample last = s.getLast();
            long peak = s.stream().mapToLong(Sample::peakAnonBytes).max().orElse(0);
            System.out.printf(Locale.ROOT, "%-40s %10.1f %8.1f %10.2f %13.2f %13.1f %8.1f%s%n", e.getKey(), m, spread,
                    last.sourceBytes() / (m / 1e3) / 1e9, m / floor, peak / 1e6, last.allocatedBytes() / 1e6,
                    last.allocatedBytes() > 0 ? String.format(Locale.ROOT, "   peak/alloc %.2f", (double) peak / last.allocatedBytes()) : "");
        }
        jlama(dir, "Q4", floor);
    }

    static double median(List<Sample> samples) {
        double[] ms = samples.stream().mapToDouble(Sample::ms).toArray();
        Arrays.sort(ms);
        return ms[ms.length / 2];
    }

    static Sample qload(Path dir, LoadOptions options) {
        AnonSampler sampler = AnonSampler.start();
        long t0 = System.nanoTime();
        try (LoadedModel model = QLoad.load(dir, options)) {
            double ms = (System.nanoTime() - t0) / 1e6;
            long peak = sampler.stop();
            LoadReport r = model.report();
            return new Sample(ms, peak, r.bytesAllocated(), r.bytesRead() + r.bytesMapped());
        }
    }

    /** Every byte of every file into private memory, the files split into one contiguous range per core. */
    static Sample readFloor(List<Path> files, long total) {
        LoadSample s = PageCacheFloor.read(files, PageCacheFloor.Destination.ARENA);
        return new Sample(s.ms(), s.peakAnonBytes(), total, total);
    }

    static void jlama(Path dir, String quantization, double floorMs) {
        List<Double> ms = new ArrayList<>();
        for (int i = 0; i < 2; i++) ms.add(JlamaChild.run(dir, quantization, false).loadMs()); // the second has the same warm page cache as qload's
        double last = ms.getLast();
        System.out.printf(Locale.ROOT, "%-40s %10.1f %8s %10s %13.2f   (own JVM; runs %s)%n", "Jlama 0.8.4, on-load " + quantization, last, "", "",
                last / floorMs, ms);
    }

    /** Samples RssAnon of this process every millisecond on a daemon thread; {@link #stop} returns the peak rise. */
    static final class AnonSampler {
        private final long baseline = rssAnon();
        private final AtomicLong peak = new AtomicLong(baseline);
        private final AtomicBoolean running = new AtomicBoolean(true);
        private final Thread thread;

        private AnonSampler() {
            thread = Thread.ofPlatform().daemon().start(() -> {
                while (running.get()) {
                    peak.accumulateAndGet(rssAnon(), Math::max);
                    try {
                        Thread.sleep(1);
                    } catch (InterruptedException e) {
                        return;
                    }
                }
            });
        }

        /** Starts sampling after handing malloc's freed memory back (see {@link AnonymousMemory#releaseFreedMalloc}). */
        static AnonSampler start() {
            AnonymousMemory.releaseFreedMalloc();
            return new AnonSampler();
        }

        long stop() {
            peak.accumulateAndGet(rssAnon(), Math::max);
            running.set(false);
            try {
                thread.join();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            return Math.max(0, peak.get() - baseline);
        }

        static long rssAnon() {
            try {
                for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
                    if (line.startsWith("RssAnon:")) return Long.parseLong(line.replaceAll("\\D", "")) * 1024;
                }
            } catch (IOException ignored) {
                // not Linux: no figure
            }
            return 0;
        }
    }
}
