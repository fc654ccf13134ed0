package dev.qload.bench;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Issue 10's side-by-side load benchmark: for each synthetic checkpoint of {@link LoadCases}, every
 * path (the physical floors, qload's loads, the eager baseline, the on-load quantizers, time to first
 * logits, Jlama 0.8.4 in its own JVM) run once as a warm-up (which also puts the files in the page
 * cache), then {@code --reps} times interleaved: repetition r runs every path before repetition r+1
 * starts, so that a change in the machine's load hits every path alike. Reported per path: the
 * median and spread of the time, the ratio to the case's read floor, the peak rise of anonymous
 * memory against the final model's bytes, and each issue-10 target met or missed.
 *
 * <p>Output: a table on stdout, and {@code load-matrix.json} and {@code load-matrix.svg} in
 * {@code --out}. Not a test: nothing is asserted.
 *
 * <pre>
 * java --add-modules jdk.incubator.vector --enable-native-access=ALL-UNNAMED -Xms1g -Xmx1g -XX:+AlwaysPreTouch -XX:MaxDirectMemorySize=64g \
 *     -cp bench/target/benchmarks.jar dev.qload.bench.LoadMatrixBench [--reps 3] [--cases a,b] [--no-jlama] [--only TEXT] [--dir DIR] [--out DIR]
 * </pre>
 *
 * {@code --only TEXT} keeps the floor and the paths whose name contains TEXT (to profile one path
 * under JFR, say).
 *
 * A fixed, pre-touched heap keeps the JVM's own heap growth out of the RssAnon figures. The direct
 * memory limit (which defaults to the heap size and bounds {@code Arena.allocate}) must be raised
 * for the eager baseline of the larger models.
 */
public final class LoadMatrixBench {
    private LoadMatrixBench() {}

    public static void main(String[] args) throws Exception {
        int reps = 3;
        List<String> names = LoadCases.names();
        boolean jlama = true;
        String only = null;
        Path dir = BenchPaths.targetDir(), out = BenchPaths.targetDir().resolve("load-matrix");
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--reps" -> reps = Integer.parseInt(args[++i]);
                case "--cases" -> names = List.of(args[++i].split(","));
                case "--no-jlama" -> jlama = false;
                case "--only" -> only = args[++i];
                case "--dir" -> dir = Path.of(args[++i]);
                case "--out" -> out = Path.of(args[++i]);
                default -> throw new IllegalArgumentException("usage: LoadMatrixBench [--reps N] [--cases " + String.join(",", LoadCases.names())
                        + "] [--no-jlama] [--only TEXT] [--dir DIR] [--out DIR]; unknown " + args[i]);
            }
        }
        String command = "LoadMatrixBench " + String.join(" ", args);
        String header = String.format(Locale.ROOT, "%s, %d cores, JDK %s, %d repetitions after 1 warm-up, interleaved; transparent huge pages: %s",
                Instant.now().truncatedTo(ChronoUnit.SECONDS), Runtime.getRuntime().availableProcessors(), Runtime.version(), reps, transparentHugePages());
        System.out.println(header);
        LoadCases cases = new LoadCases(dir, jlama);
        List<CaseResult> results = new ArrayList<>();
        for (String name : names) {
            LoadCase c = only == null ? cases.build(name) : cases.build(name).only(only);
            CaseResult r = run(c, reps);
            results.add(r);
            System.out.print(MatrixReport.table(r));
        }
        Files.createDirectories(out);
        Files.writeString(out.resolve("load-matrix.json"), MatrixReport.json(command, header, results), StandardCharsets.UTF_8);
        Files.writeString(out.resolve("load-matrix.svg"), MatrixChart.svg("qload load matrix: median time as a multiple of the page-cache read floor",
                header + "  |  " + command, results), StandardCharsets.UTF_8);
        System.out.println("\nwrote " + out.resolve("load-matrix.json") + " and " + out.resolve("load-matrix.svg"));
    }

    static CaseResult run(LoadCase c, int reps) throws Exception {
        String before = loadAverage();
        System.out.printf(Locale.ROOT, "%n[%s] %s: warm-up and %d repetitions of %d paths ...%n", c.name(), c.description(), reps, c.paths().size());
        for (LoadPath p : c.paths()) p.run().call();
        Map<String, List<LoadSample>> samples = new LinkedHashMap<>();
        for (int r = 0; r < reps; r++) {
            for (LoadPath p : c.paths()) samples.computeIfAbsent(p.name(), k -> new ArrayList<>()).add(p.run().call());
        }
        Map<String, PathStats> stats = new LinkedHashMap<>();
        samples.forEach((k, v) -> stats.put(k, PathStats.of(v)));
        return new CaseResult(c, stats, before, loadAverage());
    }

    /** The first three fields of /proc/loadavg (1, 5 and 15 minutes). */
    static String loadAverage() {
        try {
            String[] f = Files.readString(Path.of("/proc/loadavg")).split(" ");
            return f[0] + " " + f[1] + " " + f[2];
        } catch (Exception e) {
            return "?";
        }
    }

    private static String transparentHugePages() {
        try {
            return Files.readString(Path.of("/sys/kernel/mm/transparent_hugepage/enabled")).strip();
        } catch (Exception e) {
            return "?";
        }
    }
}
