package dev.qload.bench;

import dev.qload.core.QLoad;
import dev.qload.core.checkpoint.Checkpoint;
import dev.qload.core.checkpoint.CheckpointWriter;
import dev.qload.core.integrity.ChecksumManifest;
import dev.qload.core.integrity.VerifyPolicy;
import dev.qload.core.load.LoadOptions;
import dev.qload.core.load.LoadReport;
import dev.qload.core.load.LoadedModel;
import dev.qload.core.load.Residency;
import dev.qload.core.load.TaskSpan;
import dev.qload.core.tensor.DType;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.stream.Stream;

/**
 * Does a verified load read its files once, and hash them in parallel? Measured, not assumed, on a
 * sharded synthetic Llama with a cold page cache (each file evicted with
 * {@code posix_fadvise(POSIX_FADV_DONTNEED)} before every load):
 * <ul>
 *   <li>{@code read_bytes} of {@code /proc/self/io}: bytes this process made the kernel fetch from
 *       storage. One pass over the files is 1.0x their size; hashing that re-read them would be 2x
 *       (once evicted) — and {@code rchar}, bytes through read(2), shows the hashing reads nothing
 *       that way: it hashes the very mapping the tensors are views of;</li>
 *   <li>the load report's task spans: how many {@code sha256 <file>} tasks ran at the same time.</li>
 * </ul>
 * Linux only. {@code java -cp bench/target/benchmarks.jar dev.qload.bench.VerifyReadsProbe [DIR] [shard MB]}.
 */
public final class VerifyReadsProbe {
    private static final int POSIX_FADV_DONTNEED = 4, O_RDONLY = 0;

    private VerifyReadsProbe() {}

    public static void main(String[] args) throws Throwable {
        Path dir = Path.of(args.length > 0 ? args[0] : "bench/target/verify-probe").toAbsolutePath();
        long shardBytes = (args.length > 1 ? Long.parseLong(args[1]) : 64) << 20;
        Path sharded = ensureSharded(dir, shardBytes);
        List<Path> weights;
        try (Stream<Path> s = Files.list(sharded)) {
            weights = s.filter(p -> p.toString().endsWith(".safetensors")).sorted().toList();
        }
        long total = 0;
        for (Path w : weights) total += Files.size(w);
        System.out.printf(Locale.ROOT, "%s: %d weight files, %.1f MB; %s %s, %d cores%n", sharded, weights.size(), total / 1e6,
                System.getProperty("java.vm.name"), System.getProperty("java.vm.version"), Runtime.getRuntime().availableProcessors());
        System.out.println("| load | storage reads (read_bytes) | x files | read(2) bytes (rchar) | load ms | sha256 tasks at once (max) | hashing threads |");
        System.out.println("|---|---:|---:|---:|---:|---:|---:|");
        record Mode(String name, LoadOptions options) {}
        List<Mode> modes = List.of(
                new Mode("verify off, zero-copy", LoadOptions.builder().threads(2).build()),
                new Mode("verify require, zero-copy", LoadOptions.builder().threads(2).verify(VerifyPolicy.REQUIRE).build()),
                new Mode("verify off, copied", LoadOptions.builder().threads(2).residency(Residency.COPIED).build()),
                new Mode("verify require, copied", LoadOptions.builder().threads(2).residency(Residency.COPIED).verify(VerifyPolicy.REQUIRE).build()),
                new Mode("verify require, BF16 -> F32", LoadOptions.builder().threads(2).dtype(DType.F32).verify(VerifyPolicy.REQUIRE).build()));
        for (int round = 0; round < 2; round++) {
            for (Mode mode : modes) {
                for (Path w : weights) evict(w);
                long[] before = io();
                long start = System.nanoTime();
                LoadReport report;
                try (LoadedModel model = QLoad.load(sharded, mode.options())) {
                    report = model.report();
                }
                double ms = (System.nanoTime() - start) / 1e6;
                long[] after = io();
                List<TaskSpan> hashing = report.spans().stream().filter(s -> s.name().startsWith("sha256 ")).toList();
                System.out.printf(Locale.ROOT, "| %s | %.1f MB | %.2f | %.1f KB | %.0f | %d | %d |%n", mode.name(), (after[1] - before[1]) / 1e6,
                        (after[1] - before[1]) / (double) total, (after[0] - before[0]) / 1e3, ms, maxOverlap(hashing),
                        hashing.stream().map(TaskSpan::thread).distinct().count());
            }
        }
    }

    /** The most spans running at one instant. */
    static int maxOverlap(List<TaskSpan> spans) {
        List<long[]> edges = new ArrayList<>();
        for (TaskSpan s : spans) {
            edges.add(new long[] {s.startNanos(), 1});
            edges.add(new long[] {s.startNanos() + s.durationNanos(), -1});
        }
        edges.sort(Comparator.<long[]>comparingLong(e -> e[0]).thenComparingLong(e -> e[1]));
        int now = 0, max = 0;
        for (long[] e : edges) max = Math.max(max, now += (int) e[1]);
        return max;
    }

    /** A sharded BF16 Llama (8 layers, hidden 1024, about 320 MB), written once: a single-file synthetic one, re-saved in shards. */
    static Path ensureSharded(Path dir, long shardBytes) throws IOException {
        Path sharded = dir.resolve("sharded-" + (shardBytes >> 20) + "mb");
        if (Files.isRegularFile(sharded.resolve(ChecksumManifest.FILE_NAME))) return sharded;
        Path single = SyntheticLlama.ensure(dir.resolve("single"), new SyntheticLlama.Spec(1024, 2816, 8, 16, 8, 32000, 256, 9L));
        try (LoadedModel model = QLoad.load(single, LoadOptions.builder().residency(Residency.COPIED).build())) {
            CheckpointWriter.save(sharded, model.root().stateDict(), shardBytes);
        }
        Files.copy(single.resolve("config.json"), sharded.resolve("config.json"));
        try (Checkpoint c = Checkpoint.open(sharded)) {
            ChecksumManifest.compute(c, 2).write(sharded);
        }
        try (Stream<Path> s = Files.list(sharded)) {
            for (Path p : s.toList()) {
                try (FileChannel ch = FileChannel.open(p, StandardOpenOption.WRITE)) {
                    ch.force(true); // dirty pages cannot be evicted: write them back first
                }
            }
        }
        return sharded;
    }

    /** {@code rchar} and {@code read_bytes} of this process. */
    static long[] io() throws IOException {
        long rchar = 0, readBytes = 0;
        for (String line : Files.readAllLines(Path.of("/proc/self/io"))) {
            if (line.startsWith("rchar:")) rchar = Long.parseLong(line.substring(6).strip());
            if (line.startsWith("read_bytes:")) readBytes = Long.parseLong(line.substring(11).strip());
        }
        return new long[] {rchar, readBytes};
    }

    /** Drops the file's clean pages from the page cache (open, posix_fadvise DONTNEED, close), through FFM. */
    static void evict(Path file) throws Throwable {
        Linker linker = Linker.nativeLinker();
        var libc = linker.defaultLookup();
        MethodHandle open = linker.downcallHandle(libc.find("open").orElseThrow(),
                FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.ADDRESS, ValueLayout.JAVA_INT), Linker.Option.firstVariadicArg(2));
        MethodHandle fadvise = linker.downcallHandle(libc.find("posix_fadvise").orElseThrow(),
                FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.JAVA_INT, ValueLayout.JAVA_LONG, ValueLayout.JAVA_LONG, ValueLayout.JAVA_INT));
        MethodHandle close = linker.downcallHandle(libc.find("close").orElseThrow(), FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.JAVA_INT));
        try (Arena arena = Arena.ofConfined()) {
            int fd = (int) open.invokeExact(arena.allocateFrom(file.toString()), O_RDONLY);
            if (fd < 0) throw new IOException("open failed: " + file);
            int rc = (int) fadvise.invokeExact(fd, 0L, 0L, POSIX_FADV_DONTNEED);
            int closed = (int) close.invokeExact(fd);
            if (rc != 0 || closed != 0) throw new IOException("posix_fadvise/close failed on " + file + ": " + rc);
        }
    }
}
