package dev.qload.bench;

import dev.qload.bench.LoadPath.Target;
import dev.qload.bench.PageCacheFloor.Destination;
import dev.qload.core.load.InitMode;
import dev.qload.core.load.LoadOptions;
import dev.qload.core.load.Residency;
import dev.qload.core.tensor.DType;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The checkpoints of the load matrix (each generated deterministically on first use) and the paths
 * timed on each. The full set of paths runs on the 0.5 B BF16 model; the variants (sharded, F32,
 * F16, 1.1 B, gpt-oss MXFP4) run the paths that say something new about them.
 */
final class LoadCases {
    static final String READ_FLOOR = "read from page cache (floor)";
    static final String KEPT_MAPPED = "qload, dtype kept, mapped (zero-copy)";
    static final String KEPT_COPIED = "qload, dtype kept, copied (resident)";
    static final String FIRST_LOGITS = "qload, first logits (load + forward)";
    static final String NF4 = "qload, quantize to NF4 (double quant)";
    static final String FIRST_LOGITS_NF4 = "qload, NF4 first logits (load + forward)";

    /** 250 MB shards: the 0.5 B model in 4 files (transformers' default is 5 GB, which gives one). */
    static final long SHARD_BYTES = 250_000_000L;

    private final Path root;
    private final boolean jlama;

    /**
     * @param root  where the checkpoints are (generated when missing)
     * @param jlama whether to time Jlama 0.8.4 in a JVM of its own as well
     */
    LoadCases(Path root, boolean jlama) {
        this.root = root;
        this.jlama = jlama;
    }

    static List<String> names() {
        return List.of("llama-0.5b-bf16", "llama-0.5b-bf16-sharded", "llama-0.5b-f32", "llama-0.5b-f16", "llama-1.1b-bf16", "gpt-oss-mxfp4");
    }

    LoadCase build(String name) {
        return switch (name) {
            case "llama-0.5b-bf16" -> llama(name, SyntheticLlama.Spec.halfBillion(), SyntheticLlama.Storage.bf16SingleFile(), true);
            case "llama-0.5b-bf16-sharded" -> sharded(name);
            case "llama-0.5b-f32" -> converted(name, DType.F32);
            case "llama-0.5b-f16" -> converted(name, DType.F16);
            case "llama-1.1b-bf16" -> llama(name, SyntheticLlama.Spec.oneBillion(), SyntheticLlama.Storage.bf16SingleFile(), false);
            case "gpt-oss-mxfp4" -> gptOss(name);
            default -> throw new IllegalArgumentException("no case '" + name + "'; cases: " + names());
        };
    }

    /** A BF16 Llama; {@code everything} adds the floors' variants and every quantizer. */
    private LoadCase llama(String name, SyntheticLlama.Spec spec, SyntheticLlama.Storage storage, boolean everything) {
        Path dir = SyntheticLlama.ensure(root.resolve("synthetic-" + name), spec, storage);
        List<Path> files = safetensors(dir);
        List<LoadPath> paths = new ArrayList<>();
        paths.add(LoadPath.of(READ_FLOOR, Target.FLOOR, () -> PageCacheFloor.read(files, Destination.ARENA)));
        if (everything) {
            paths.add(LoadPath.of("read into mmap'd anonymous memory", Target.NONE, () -> PageCacheFloor.read(files, Destination.MMAP)));
            paths.add(LoadPath.of("read into mmap'd memory, MADV_HUGEPAGE", Target.NONE, () -> PageCacheFloor.read(files, Destination.MMAP_HUGE)));
            paths.add(LoadPath.of("read into mmap'd memory, MAP_POPULATE", Target.NONE, () -> PageCacheFloor.read(files, Destination.MMAP_POPULATE)));
            paths.add(LoadPath.of("touch every page of a mapping", Target.NONE, () -> PageCacheFloor.touchMapping(files, false)));
            paths.add(LoadPath.of("MemorySegment.load() of a mapping", Target.NONE, () -> PageCacheFloor.touchMapping(files, true)));
        }
        paths.add(LoadPath.of(KEPT_MAPPED, Target.NONE, () -> QloadRuns.load(dir, LoadOptions.defaults())));
        paths.add(LoadPath.of(KEPT_COPIED, Target.RESIDENT, () -> QloadRuns.load(dir, copied().build())));
        if (everything) {
            paths.add(LoadPath.of(KEPT_COPIED + ", MAP_POPULATE", Target.RESIDENT, () -> withPopulatedPages(() -> QloadRuns.load(dir, copied().build()))));
        }
        paths.add(LoadPath.versus("qload, eager init (allocate + random), copied", Target.EAGER, KEPT_COPIED,
                () -> QloadRuns.load(dir, copied().initMode(InitMode.EAGER).build())));
        if (everything) {
            paths.add(LoadPath.of("qload, convert BF16 -> F16", Target.NONE, () -> QloadRuns.load(dir, LoadOptions.builder().dtype(DType.F16).build())));
        }
        paths.add(LoadPath.of(NF4, Target.QUANTIZE, () -> QloadRuns.load(dir, nf4())));
        if (everything) paths.add(LoadPath.of(NF4 + ", MAP_POPULATE", Target.QUANTIZE, () -> withPopulatedPages(() -> QloadRuns.load(dir, nf4()))));
        paths.add(LoadPath.of("qload, quantize to int8 (LLM.int8)", Target.QUANTIZE,
                () -> QloadRuns.load(dir, LoadOptions.builder().quantize("bitsandbytes", Map.of("load_in_8bit", true)).build())));
        if (everything) {
            paths.add(LoadPath.of("qload, quantize to MXFP4 (every Linear)", Target.QUANTIZE,
                    () -> QloadRuns.load(dir, LoadOptions.builder().quantize("mxfp4", Map.of("qload_quantize_linear", true)).build())));
            paths.add(LoadPath.of("qload, quantize to GPTQ 4-bit RTN (g128)", Target.NONE,
                    () -> QloadRuns.load(dir, LoadOptions.builder().quantize("gptq", Map.of("bits", 4, "group_size", 128, "sym", true)).build())));
        }
        paths.add(LoadPath.of(FIRST_LOGITS, Target.NONE, () -> QloadRuns.firstLogits(dir, LoadOptions.defaults())));
        paths.add(LoadPath.of(FIRST_LOGITS_NF4, Target.NONE, () -> QloadRuns.firstLogits(dir, nf4())));
        if (jlama) {
            paths.add(LoadPath.versus("Jlama 0.8.4, BF16 load (own JVM)", Target.JLAMA, KEPT_MAPPED, () -> jlamaLoad(dir, "BF16")));
            paths.add(LoadPath.versus("Jlama 0.8.4, on-load Q4 (own JVM)", Target.JLAMA, NF4, () -> jlamaLoad(dir, "Q4")));
            paths.add(LoadPath.versus("Jlama 0.8.4, first logits (own JVM)", Target.JLAMA, FIRST_LOGITS, () -> jlamaFirstLogits(dir, "BF16")));
            paths.add(LoadPath.versus("Jlama 0.8.4, Q4 first logits (own JVM)", Target.JLAMA, FIRST_LOGITS_NF4, () -> jlamaFirstLogits(dir, "Q4")));
        }
        return new LoadCase(name, describe(String.format(Locale.ROOT, "Llama %,d params", spec.parameterCount()), storage.dtype(), files), dir, paths);
    }

    private LoadCase sharded(String name) {
        SyntheticLlama.Spec spec = SyntheticLlama.Spec.halfBillion();
        Path dir = SyntheticLlama.ensure(root.resolve("synthetic-" + name), spec, new SyntheticLlama.Storage(DType.BF16, SHARD_BYTES));
        List<Path> files = safetensors(dir);
        List<LoadPath> paths = List.of(
                LoadPath.of(READ_FLOOR, Target.FLOOR, () -> PageCacheFloor.read(files, Destination.ARENA)),
                LoadPath.of(KEPT_MAPPED, Target.NONE, () -> QloadRuns.load(dir, LoadOptions.defaults())),
                LoadPath.of(KEPT_COPIED, Target.RESIDENT, () -> QloadRuns.load(dir, copied().build())),
                LoadPath.versus("qload, eager init (allocate + random), copied", Target.EAGER, KEPT_COPIED,
                        () -> QloadRuns.load(dir, copied().initMode(InitMode.EAGER).build())),
                LoadPath.of(NF4, Target.QUANTIZE, () -> QloadRuns.load(dir, nf4())));
        return new LoadCase(name, describe(String.format(Locale.ROOT, "Llama %,d params", spec.parameterCount()), DType.BF16, files), dir, paths);
    }

    /** The 0.5 B model stored as {@code dtype}: kept, and converted to BF16 while loading. */
    private LoadCase converted(String name, DType dtype) {
        SyntheticLlama.Spec spec = SyntheticLlama.Spec.halfBillion();
        Path dir = SyntheticLlama.ensure(root.resolve("synthetic-" + name), spec, new SyntheticLlama.Storage(dtype, SyntheticLlama.Storage.bf16SingleFile().maxShardBytes()));
        List<Path> files = safetensors(dir);
        List<LoadPath> paths = List.of(
                LoadPath.of(READ_FLOOR, Target.FLOOR, () -> PageCacheFloor.read(files, Destination.ARENA)),
                LoadPath.of(KEPT_MAPPED, Target.NONE, () -> QloadRuns.load(dir, LoadOptions.defaults())),
                LoadPath.of(KEPT_COPIED, Target.RESIDENT, () -> QloadRuns.load(dir, copied().build())),
                LoadPath.of("qload, convert " + dtype + " -> BF16", Target.NONE, () -> QloadRuns.load(dir, LoadOptions.builder().dtype(DType.BF16).build())),
                LoadPath.of(NF4, Target.QUANTIZE, () -> QloadRuns.load(dir, nf4())));
        return new LoadCase(name, describe(String.format(Locale.ROOT, "Llama %,d params", spec.parameterCount()), dtype, files), dir, paths);
    }

    /** gpt-oss-20b's layer shapes with 2 layers, MXFP4 experts as shipped (see {@link Mxfp4LoadBench}). */
    private LoadCase gptOss(String name) {
        SyntheticGptOss.Spec spec = SyntheticGptOss.Spec.twoLayers();
        Path dir = SyntheticGptOss.ensure(root.resolve("synthetic-gpt-oss-2l"), spec);
        Path dequantizeDir;
        try {
            dequantizeDir = Mxfp4LoadBench.withDequantize(dir);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        List<Path> files = safetensors(dir);
        List<LoadPath> paths = List.of(
                LoadPath.of(READ_FLOOR, Target.FLOOR, () -> PageCacheFloor.read(files, Destination.ARENA)),
                LoadPath.of("qload, MXFP4 kept, mapped (zero-copy)", Target.NONE, () -> QloadRuns.load(dir, LoadOptions.defaults())),
                LoadPath.of("qload, MXFP4 kept, copied (resident)", Target.RESIDENT, () -> QloadRuns.load(dir, copied().build())),
                LoadPath.of("qload, dequantize: true (BF16 experts)", Target.NONE, () -> QloadRuns.load(dequantizeDir, LoadOptions.defaults())));
        return new LoadCase(name, describe("gpt-oss-20b layer shapes, 2 layers", DType.U8, files) + ", MXFP4 experts + BF16 rest", dir, paths);
    }

    /**
     * {@code run} with the model's memory from {@code mmap(MAP_POPULATE)} instead of malloc + zeroing
     * ({@code -Dqload.offheap.pages=populate} for the length of the run, core's opt-in
     * {@code AnonymousPages}): that trade-off (less CPU, more wall time when idle) measured in every run.
     */
    private static LoadSample withPopulatedPages(java.util.concurrent.Callable<LoadSample> run) throws Exception {
        System.setProperty("qload.offheap.pages", "populate");
        try {
            return run.call();
        } finally {
            System.clearProperty("qload.offheap.pages");
        }
    }

    private static LoadOptions.Builder copied() {
        return LoadOptions.builder().residency(Residency.COPIED);
    }

    private static LoadOptions nf4() {
        return LoadOptions.builder().quantize("bitsandbytes",
                Map.of("load_in_4bit", true, "bnb_4bit_quant_type", "nf4", "bnb_4bit_use_double_quant", true)).build();
    }

    private static LoadSample jlamaLoad(Path dir, String quantization) {
        JlamaChild.Result r = JlamaChild.run(dir, quantization, false);
        return new LoadSample(r.loadMs(), r.loadCpuMs(), r.peakAnonBytes(), 0);
    }

    private static LoadSample jlamaFirstLogits(Path dir, String quantization) {
        JlamaChild.Result r = JlamaChild.run(dir, quantization, true);
        return new LoadSample(r.firstLogitsMs(), r.firstLogitsCpuMs(), r.peakAnonBytes(), 0);
    }

    static List<Path> safetensors(Path dir) {
        try (var s = Files.list(dir)) {
            return s.filter(p -> p.toString().endsWith(".safetensors")).sorted().toList();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static String describe(String what, DType dtype, List<Path> files) {
        long bytes = 0;
        try {
            for (Path f : files) bytes += Files.size(f);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return String.format(Locale.ROOT, "%s, %s, %d file%s, %.3f GB", what, dtype == DType.U8 ? "mixed" : dtype.name(), files.size(),
                files.size() == 1 ? "" : "s", bytes / 1e9);
    }
}
