package dev.qload.bench;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/**
 * Prints the benchmark table from JMH's JSON results ({@code -rf json -rff FILE}):
 * {@code java -cp benchmarks.jar dev.qload.bench.Summary FILE [jlama-generate.txt]}.
 *
 * <p>Mat-vec ({@link MatVecBench}): GB/s of weights read = rows·cols·2 bytes per call / time,
 * from the block timers (aux counters), per measurement iteration. Copy: the same number of bytes
 * N copied, on as many threads, timed in the same iterations; "copy N/t" is bytes copied per
 * second (the yardstick: a copy of the same number of bytes), "2N/t" counts read + write
 * (STREAM's convention, the traffic a copy causes before write-allocate), the stricter yardstick.
 * Ratio = mat-vec GB/s ÷ copy GB/s, per iteration, then averaged; "best" is the fastest iteration.
 *
 * <p>Decode ({@link DecodeBench}): JMH's score, tokens/s, mean ± 99.9 % half-interval, and the
 * fastest iteration ("best"), which on a shared machine is the one least disturbed by other work.
 */
public final class Summary {
    private Summary() {}

    record Result(String benchmark, Map<String, String> params, double score, double error, String unit, List<Double> raw,
                  Map<String, List<Double>> secondary) {
        String method() {
            String[] p = benchmark.split("\\.");
            return p[p.length - 2] + "." + p[p.length - 1];
        }

        double best(boolean higherIsBetter) {
            return raw.stream().mapToDouble(Double::doubleValue).reduce(higherIsBetter ? Math::max : Math::min).orElse(Double.NaN);
        }
    }

    static List<Result> read(Path json) throws IOException {
        JsonNode root = JsonMapper.builder().build().readTree(json.toFile());
        List<Result> out = new ArrayList<>();
        for (JsonNode r : root) {
            Map<String, String> params = new LinkedHashMap<>();
            JsonNode p = r.get("params");
            if (p != null) for (var e : p.properties()) params.put(e.getKey(), e.getValue().asString());
            JsonNode m = r.get("primaryMetric");
            List<Double> raw = new ArrayList<>();
            for (JsonNode fork : m.get("rawData")) for (JsonNode v : fork) raw.add(v.asDouble());
            double error = m.get("scoreError").isNumber() ? m.get("scoreError").asDouble() : Double.NaN;
            Map<String, List<Double>> secondary = new LinkedHashMap<>();
            JsonNode sm = r.get("secondaryMetrics");
            if (sm != null) {
                for (var e : sm.properties()) {
                    List<Double> values = new ArrayList<>();
                    for (JsonNode fork : e.getValue().get("rawData")) for (JsonNode v : fork) values.add(v.asDouble());
                    secondary.put(e.getKey(), values);
                }
            }
            out.add(new Result(r.get("benchmark").asString(), params, m.get("score").asDouble(), error, m.get("scoreUnit").asString(), raw, secondary));
        }
        return out;
    }

    static Result find(List<Result> results, String method, String shape) {
        for (Result r : results) {
            if (!r.method().equals(method)) continue;
            if (shape != null && !shape.equals(r.params().get("shape"))) continue;
            return r;
        }
        return null;
    }

    static Result find(List<Result> results, String method, String shape, String kernels) {
        for (Result r : results) {
            if (r.method().equals(method) && shape.equals(r.params().get("shape")) && kernels.equals(r.params().get("kernels"))) return r;
        }
        return null;
    }

    static long bytes(String shape) {
        int[] rc = WeightPool.parseShape(shape);
        return (long) rc[0] * rc[1] * 2;
    }

    /** ms/op → GB/s for {@code bytes} per op. */
    static double gbps(long bytes, double msPerOp) {
        return bytes / (msPerOp * 1e6);
    }

    public static String render(List<Result> results, List<String> jlamaGenerate) {
        StringBuilder sb = new StringBuilder();
        List<String> shapes = new ArrayList<>();
        for (Result r : results) {
            String s = r.params().get("shape");
            if (s != null && !shapes.contains(s)) shapes.add(s);
        }
        if (!shapes.isEmpty()) {
            sb.append("BF16 mat-vec y = W·x, one token: GB/s of weights read, against MemorySegment.copy of the same N bytes,\n");
            sb.append("the two alternating in blocks of ").append(MatVecBench.BLOCK).append(" calls in the same JVM (copy N/t = bytes copied per second;\n");
            sb.append("2N/t = bytes moved, read + write, STREAM's convention). Mean over the measurement iterations;\n");
            sb.append("ratio = mean of the per-iteration ratios; min–max: their range; best: the fastest iteration of each.\n");
            String header = String.format(Locale.ROOT, "%-11s %4s %3s  %-7s  %12s  %13s  %13s  %5s  %9s  %9s  %5s%n",
                    "W", "MiB", "thr", "kernels", "mat-vec GB/s", "copy GB/s N/t", "best mv/copy", "ratio", "min–max", "copy 2N/t", "ratio");
            sb.append(header).append("-".repeat(header.length() - 1)).append('\n');
            for (String shape : shapes) {
                long bytes = bytes(shape);
                row(sb, shape, bytes, 1, "vector", find(results, "MatVecBench.matvecThenCopy", shape, "vector"));
                row(sb, shape, bytes, 1, "scalar", find(results, "MatVecBench.matvecThenCopy", shape, "scalar"));
                row(sb, shape, bytes, 2, "vector", find(results, "MatVecParallelBench.matvecThenCopy", shape));
            }
            sb.append('\n');
        }
        List<Result> q = all(results, "DecodeBench.qload"), q2 = all(results, "DecodeBench.qload2t"), j = all(results, "DecodeBench.jlama");
        if (!q.isEmpty() || !q2.isEmpty() || !j.isEmpty()) {
            int rounds = Math.max(q.size(), Math.max(q2.size(), j.size()));
            sb.append("Decode, ~0.5 B synthetic Llama, BF16 weights: tokens/s, one token (forward with KV cache + lm_head + argmax)\n");
            sb.append("per op after an 8-token prompt. tok/s: mean of all measurement iterations");
            sb.append(rounds > 1 ? " of all " + rounds + " rounds (each round runs\nevery engine once, so the engines alternate in time); per round: each round's mean.\n" : ".\n");
            String header = String.format(Locale.ROOT, "%-46s %6s %6s  %-20s %8s  %s%n", "engine", "tok/s", "best", "per round", "vs Jlama", "per round");
            sb.append(header).append("-".repeat(header.length() - 1)).append('\n');
            int cores = Runtime.getRuntime().availableProcessors();
            decodeRow(sb, "qload (as shipped)", q, j);
            decodeRow(sb, "qload, common-pool parallelism 2", q2, j);
            String working = j.isEmpty() ? "?" : j.getFirst().params().getOrDefault("jlamaWorking", "?");
            decodeRow(sb, "Jlama 0.8.4 (Panama, " + working + " working mem, " + Math.max(2, cores / 2) + " thr)", j, j);
            for (String line : jlamaGenerate) sb.append("  Jlama's own generate() report: ").append(line.strip()).append('\n');
        }
        return sb.toString();
    }

    /** Per measurement iteration: GB/s of the mat-vec and of the copy, from the block timers. */
    private static void row(StringBuilder sb, String shape, long bytes, int threads, String kernels, Result r) {
        if (r == null) return;
        List<Double> mvNs = r.secondary().get("matvecNanos"), mvCalls = r.secondary().get("matvecCalls");
        List<Double> cpNs = r.secondary().get("copyNanos"), cpCalls = r.secondary().get("copyCalls");
        if (mvNs == null || cpNs == null) return;
        int n = Math.min(mvNs.size(), cpNs.size());
        double mvSum = 0, cpSum = 0, ratioSum = 0, ratioMin = Double.MAX_VALUE, ratioMax = 0, mvBest = 0, cpBest = 0;
        for (int i = 0; i < n; i++) {
            double mv = bytes * mvCalls.get(i) / mvNs.get(i), cp = bytes * cpCalls.get(i) / cpNs.get(i); // bytes per ns = GB/s
            mvSum += mv;
            cpSum += cp;
            mvBest = Math.max(mvBest, mv);
            cpBest = Math.max(cpBest, cp);
            double ratio = mv / cp;
            ratioSum += ratio;
            ratioMin = Math.min(ratioMin, ratio);
            ratioMax = Math.max(ratioMax, ratio);
        }
        double mv = mvSum / n, cp = cpSum / n, ratio = ratioSum / n;
        sb.append(String.format(Locale.ROOT, "%-11s %4.0f %3d  %-7s  %12.2f  %13.2f  %6.2f/%-6.2f  %4.0f%%  %9s  %9.2f  %4.0f%%%n", shape, bytes / 1048576.0,
                threads, kernels, mv, cp, mvBest, cpBest, 100 * ratio, String.format(Locale.ROOT, "%.0f–%.0f%%", 100 * ratioMin, 100 * ratioMax),
                2 * cp, 50 * ratio));
    }

    static List<Result> all(List<Result> results, String method) {
        List<Result> out = new ArrayList<>();
        for (Result r : results) if (r.method().equals(method)) out.add(r);
        return out;
    }

    static double pooledMean(List<Result> rs) {
        return rs.stream().flatMap(r -> r.raw().stream()).mapToDouble(Double::doubleValue).average().orElse(Double.NaN);
    }

    private static void decodeRow(StringBuilder sb, String name, List<Result> rs, List<Result> jlama) {
        if (rs.isEmpty()) return;
        double mean = pooledMean(rs), best = rs.stream().mapToDouble(r -> r.best(true)).max().orElse(Double.NaN);
        StringBuilder rounds = new StringBuilder(), ratios = new StringBuilder();
        for (int i = 0; i < rs.size(); i++) {
            rounds.append(i == 0 ? "" : " / ").append(String.format(Locale.ROOT, "%.2f", rs.get(i).score()));
            if (i < jlama.size()) ratios.append(i == 0 ? "" : " / ").append(String.format(Locale.ROOT, "%.2f", rs.get(i).score() / jlama.get(i).score()));
        }
        String vs = jlama.isEmpty() ? "-" : String.format(Locale.ROOT, "%.2f x", mean / pooledMean(jlama));
        sb.append(String.format(Locale.ROOT, "%-46s %6.2f %6.2f  %-20s %8s  %s%n", name, mean, best, rounds, vs, ratios));
    }

    /** {@code Summary FILE...}: JMH JSON results (several: rounds, merged) and optionally Jlama's generate() side file (.txt). */
    public static void main(String[] args) throws IOException {
        if (args.length < 1) {
            System.err.println("usage: Summary jmh-result.json... [jlama-generate.txt]");
            System.exit(2);
        }
        List<Result> results = new ArrayList<>();
        List<String> generate = new ArrayList<>();
        for (String a : args) {
            Path p = Path.of(a);
            if (!Files.isRegularFile(p)) continue;
            if (a.endsWith(".json")) results.addAll(read(p));
            else generate.addAll(Files.readAllLines(p));
        }
        System.out.print(render(results, generate));
    }
}
