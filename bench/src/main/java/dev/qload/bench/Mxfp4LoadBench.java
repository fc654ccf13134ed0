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
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.Supplier;

/**
 * Loading gpt-oss as it ships (MXFP4 experts), every path measured in this one run on the same files
 * ({@link SyntheticGptOss}: gpt-oss-20b's layer shapes, few layers), interleaved, after a warm-up
 * that puts the files in the page cache:
 *
 * <ol>
 *   <li>the floor: the same bytes read from the page cache into private memory (one thread per core);</li>
 *   <li>MXFP4 kept, mapped: blocks and scales stay zero-copy views of the file (the default);</li>
 *   <li>MXFP4 kept, copied: every weight copied into private memory;</li>
 *   <li>{@code dequantize: true}: dense BF16 experts decoded while loading (the same files, hard-linked
 *       beside a config.json that sets it);</li>
 *   <li>its own floor: as many bytes as that load allocates, allocated (zeroed) and written once,
 *       one thread per core: what producing the dense model costs before any decoding.</li>
 * </ol>
 *
 * Peak anonymous memory (RssAnon, sampled every millisecond, minus the level before the load) is
 * set against the bytes of the model the load hands over. Not a test: timings are reported, never
 * asserted.
 *
 * <p>Run: {@code java --add-modules jdk.incubator.vector -cp bench/target/benchmarks.jar dev.qload.bench.Mxfp4LoadBench [DIR] [REPS] [LAYERS]}.
 */
public final class Mxfp4LoadBench {
    private Mxfp4LoadBench() {}

    record Sample(double ms, long peakAnonBytes, long allocatedBytes, long modelBytes) {}

    public static void main(String[] args) throws Exception {
        int layers = args.length > 2 ? Integer.parseInt(args[2]) : 2;
        SyntheticGptOss.Spec spec = new SyntheticGptOss.Spec(layers, SyntheticGptOss.Spec.twoLayers().vocab(), SyntheticGptOss.Spec.twoLayers().seed());
        Path dir = SyntheticGptOss.ensure(args.length > 0 ? Path.of(args[0]) : BenchPaths.targetDir().resolve("synthetic-gpt-oss-" + layers + "l"), spec);
        int reps = args.length > 1 ? Integer.parseInt(args[1]) : 3;
        Path dequantizeDir = withDequantize(dir);
        List<Path> files = new ArrayList<>();
        try (var s = Files.list(dir)) {
            s.filter(p -> p.toString().endsWith(".safetensors")).sorted().forEach(files::add);
        }
        long total = 0;
        for (Path f : files) total += Files.size(f);
        System.out.printf(Locale.ROOT, "checkpoint %s (%s): %d files, %.3f GB; %d cores; %d repetitions, interleaved%n",
                dir, spec, files.size(), total / 1e9, Runtime.getRuntime().availableProcessors(), reps);

        long totalBytes = total;
        Map<String, Supplier<Sample>> paths = new LinkedHashMap<>();
        paths.put("read from page cache (floor)", () -> {
            QuantizeOnLoadBench.Sample s = QuantizeOnLoadBench.readFloor(files, totalBytes);
            return new Sample(s.ms(), s.peakAnonBytes(), s.allocatedBytes(), totalBytes);
        });
        paths.put("qload, MXFP4 kept, mapped", () -> qload(dir, LoadOptions.defaults()));
        paths.put("qload, MXFP4 kept, copied", () -> qload(dir, LoadOptions.builder().residency(Residency.COPIED).build()));
        paths.put("qload, dequantize: true (BF16 experts)", () -> qload(dequantizeDir, LoadOptions.defaults()));
        long denseBytes;
        try (LoadedModel m = QLoad.load(dequantizeDir, LoadOptions.defaults())) {
            denseBytes = m.report().bytesAllocated();
        }
        paths.put("write that many bytes (dequantize floor)", () -> writeFloor(denseBytes));

        for (var p : paths.values()) p.get(); // warm-up: page cache and JIT
        Map<String, List<Sample>> samples = new LinkedHashMap<>();
        for (int r = 0; r < reps; r++) for (var p : paths.entrySet()) samples.computeIfAbsent(p.getKey(), k -> new ArrayList<>()).add(p.getValue().get());

        double floor = median(samples.get("read from page cache (floor)"));
        System.out.printf(Locale.ROOT, "%n%-40s %10s %8s %8s %13s %9s %9s %11s%n", "path", "median ms", "spread", "× floor", "peak anon MB",
                "alloc MB", "model MB", "peak/model");
        for (var e : samples.entrySet()) {
            List<Sample> s = e.getValue();
            double m = median(s);
            double spread = s.stream().mapToDouble(Sample::ms).max().orElse(0) - s.stream().mapToDouble(Sample::ms).min().orElse(0);
            long peak = s.stream().mapToLong(Sample::peakAnonBytes).max().orElse(0);
            Sample last = s.getLast();
            System.out.printf(Locale.ROOT, "%-40s %10.1f %8.1f %8.2f %13.1f %9.1f %9.1f %11.2f%n", e.getKey(), m, spread, m / floor, peak / 1e6,
                    last.allocatedBytes() / 1e6, last.modelBytes() / 1e6, (double) peak / last.modelBytes());
        }
    }

    /** A sibling directory whose config.json adds {@code "dequantize": true}, its weight files hard links to {@code dir}'s. */
    static Path withDequantize(Path dir) throws IOException {
        Path out = dir.resolveSibling(dir.getFileName() + "-dequantize");
        Files.createDirectories(out);
        try (var s = Files.list(dir)) {
            for (Path f : s.filter(p -> p.toString().endsWith(".safetensors") || p.toString().endsWith(".json")).toList()) {
                Path target = out.resolve(f.getFileName());
                Files.deleteIfExists(target);
                if (f.getFileName().toString().equals("config.json")) {
                    Files.writeString(target, Files.readString(f).replace("\"quant_method\": \"mxfp4\"", "\"dequantize\": true, \"quant_method\": \"mxfp4\""));
                } else {
                    Files.createLink(target, f);
                }
            }
        }
        return out;
    }

    /** {@code bytes} of fresh private memory, allocated (zeroed) and filled once, split into one range per core. */
    static Sample writeFloor(long bytes) {
        LoadSample s = PageCacheFloor.write(bytes);
        return new Sample(s.ms(), s.peakAnonBytes(), bytes, bytes);
    }

    static double median(List<Sample> samples) {
        double[] ms = samples.stream().mapToDouble(Sample::ms).sorted().toArray();
        return ms[ms.length / 2];
    }

    static Sample qload(Path dir, LoadOptions options) {
        QuantizeOnLoadBench.AnonSampler sampler = QuantizeOnLoadBench.AnonSampler.start();
        long t0 = System.nanoTime();
        try (LoadedModel model = QLoad.load(dir, options)) {
            double ms = (System.nanoTime() - t0) / 1e6;
            long peak = sampler.stop();
            LoadReport r = model.report();
            return new Sample(ms, peak, r.bytesAllocated(), r.modelBytes());
        }
    }
}
