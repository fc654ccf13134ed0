package dev.qload.bench;

import dev.qload.core.kernel.Kernels;
import dev.qload.core.kernel.MatMul;
import dev.qload.core.nn.LinearForward;
import dev.qload.core.tensor.DType;
import dev.qload.core.tensor.FloatFormats;
import dev.qload.core.tensor.Shape;
import dev.qload.core.tensor.Tensor;
import java.lang.foreign.Arena;
import dev.qload.quantizers.gptq.GptqLayers;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

/**
 * GPTQ speed, two figures (issue 6), each against a baseline measured in the same run:
 *
 * <ol>
 * <li><b>4-bit mat-vec</b> (one token, group 128, with and without act-order): bytes of packed
 * weights read per second (qweight + scales + qzeros) against the bytes per second of a plain
 * {@link MemorySegment#copy} of the same number of bytes on as many threads, in alternating
 * blocks; and the BF16 dense mat-vec of the same shape for scale. Every call reads a different
 * layer of a pool larger than the 480 MiB L3 this machine reports, so everything streams from memory.</li>
 * <li><b>GPTQ quantization</b> of one 4096×4096 layer from calibration activations (sequences ×
 * tokens), Hessian included, next to round-to-nearest of the same layer.</li>
 * </ol>
 *
 * {@code java --add-modules jdk.incubator.vector -cp bench/target/benchmarks.jar dev.qload.bench.GptqBench
 * [--rounds 15] [--pool-mib 1024] [--sequences 128] [--tokens 128] [--no-quantize]}
 */
public final class GptqBench {
    private static final ValueLayout.OfInt I32 = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfShort F16 = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final int BLOCK = 8;

    private GptqBench() {}

    public static void main(String[] args) throws Exception {
        int rounds = 15, poolMiB = 1024, sequences = 128, tokens = 128;
        boolean quantize = true;
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--rounds" -> rounds = Integer.parseInt(args[++i]);
                case "--pool-mib" -> poolMiB = Integer.parseInt(args[++i]);
                case "--sequences" -> sequences = Integer.parseInt(args[++i]);
                case "--tokens" -> tokens = Integer.parseInt(args[++i]);
                case "--no-quantize" -> quantize = false;
                default -> throw new IllegalArgumentException("unknown argument " + args[i]);
            }
        }
        int threads = Runtime.getRuntime().availableProcessors();
        System.out.printf(Locale.ROOT, "GptqBench: %d cores, kernels %s, pool %d MiB, %d rounds of %d calls%n", threads, Kernels.get().name(), poolMiB, rounds, BLOCK);
        System.out.println();
        System.out.println("| shape (out×in) | kernel | MB read/call | GB/s | copy GB/s (same bytes, " + threads + " threads) | ratio median [min, max] | µs/call |");
        System.out.println("|---|---|---|---|---|---|---|");
        ExecutorService copier = Executors.newFixedThreadPool(threads, r -> {
            Thread t = new Thread(r, "copy");
            t.setDaemon(true);
            return t;
        });
        for (int[] shape : new int[][] {{4096, 4096}, {11008, 4096}}) {
            for (String kernel : List.of("gptq-4bit-g128", "gptq-4bit-g128-actorder", "bf16-dense")) {
                matvec(shape[0], shape[1], kernel, (long) poolMiB << 20, rounds, copier, threads);
            }
        }
        copier.shutdownNow();
        if (quantize) quantizationTime(4096, 4096, sequences, tokens);
    }

    /** One row of the mat-vec table. */
    private static void matvec(int out, int in, String kernel, long poolBytes, int rounds, ExecutorService copier, int threads) throws Exception {
        boolean dense = kernel.startsWith("bf16");
        int groups = in / 128;
        long bytes = dense ? (long) out * in * 2 : (long) in / 8 * out * 4 + (long) groups * out * 2 + (long) groups * out / 2;
        int count = (int) Math.max(2, (poolBytes + bytes - 1) / bytes);
        List<Runnable> calls = new ArrayList<>();
        float[] x = new float[in], y = new float[out];
        SplittableRandom r = new SplittableRandom(7);
        for (int i = 0; i < in; i++) x[i] = (float) r.nextGaussian();
        if (dense) {
            WeightPool pool = new WeightPool(out, in, poolBytes, true);
            for (Tensor w : pool.matrices) calls.add(() -> MatMul.linear(Kernels.get(), w, null, x, 1, y));
        } else {
            boolean actOrder = kernel.endsWith("actorder");
            for (int i = 0; i < count; i++) {
                LinearForward layer = randomLayer(out, in, actOrder, r);
                calls.add(() -> layer.forward(Kernels.get(), x, 1, y));
            }
        }
        MemorySegment from = MemorySegment.ofArray(new byte[(int) Math.min(Integer.MAX_VALUE - 8, poolBytes)]);
        MemorySegment to = MemorySegment.ofArray(new byte[(int) bytes]);
        double[] gbs = new double[rounds], copyGbs = new double[rounds], ratio = new double[rounds], micros = new double[rounds];
        int next = 0;
        long copyOffset = 0;
        for (int round = -3; round < rounds; round++) { // three warm-up rounds
            long t0 = System.nanoTime();
            for (int i = 0; i < BLOCK; i++) {
                calls.get(next).run();
                next = (next + 1) % calls.size();
            }
            long t1 = System.nanoTime();
            for (int i = 0; i < BLOCK; i++) {
                if (copyOffset + bytes > from.byteSize()) copyOffset = 0;
                copy(from, copyOffset, to, bytes, copier, threads);
                copyOffset += bytes;
            }
            long t2 = System.nanoTime();
            if (round < 0) continue;
            gbs[round] = bytes * (double) BLOCK / (t1 - t0);
            copyGbs[round] = bytes * (double) BLOCK / (t2 - t1);
            ratio[round] = gbs[round] / copyGbs[round];
            micros[round] = (t1 - t0) / 1e3 / BLOCK;
        }
        double[] sorted = ratio.clone();
        Arrays.sort(sorted);
        System.out.printf(Locale.ROOT, "| %d×%d | %s | %.1f | %.1f | %.1f | %.2f [%.2f, %.2f] | %.0f |%n", out, in, kernel, bytes / 1e6, median(gbs), median(copyGbs),
                median(ratio), sorted[0], sorted[sorted.length - 1], median(micros));
    }

    /** A 4-bit group-128 layer of random codes and scales (speed does not depend on the values); act-order: a random g_idx permutation. */
    private static LinearForward randomLayer(int out, int in, boolean actOrder, SplittableRandom r) {
        int groups = in / 128;
        Tensor qweight = Tensor.allocate(Shape.of(in / 8, out), DType.I32, Arena.ofAuto());
        Tensor qzeros = Tensor.allocate(Shape.of(groups, out / 8), DType.I32, Arena.ofAuto());
        Tensor scales = Tensor.allocate(Shape.of(groups, out), DType.F16, Arena.ofAuto());
        Tensor gIdx = Tensor.allocate(Shape.of(in), DType.I32, Arena.ofAuto());
        for (long i = 0; i < (long) in / 8 * out; i++) qweight.data().setAtIndex(I32, i, r.nextInt());
        for (long i = 0; i < (long) groups * out / 8; i++) qzeros.data().setAtIndex(I32, i, 0x77777777);
        for (long i = 0; i < (long) groups * out; i++) scales.data().setAtIndex(F16, i, FloatFormats.floatToF16((float) (0.002 + 0.001 * r.nextDouble())));
        int[] g = new int[in];
        for (int k = 0; k < in; k++) g[k] = k / 128;
        if (actOrder) for (int k = in - 1; k > 0; k--) {
            int j = r.nextInt(k + 1), t = g[k];
            g[k] = g[j];
            g[j] = t;
        }
        for (int k = 0; k < in; k++) gIdx.data().setAtIndex(I32, k, g[k]);
        return GptqLayers.fromPacked(Map.of("bits", 4, "group_size", 128, "sym", true, "desc_act", actOrder), qweight, qzeros, scales, gIdx);
    }

    private static void copy(MemorySegment from, long offset, MemorySegment to, long bytes, ExecutorService copier, int threads) throws Exception {
        long part = (bytes / threads) & ~63L;
        List<Future<?>> parts = new ArrayList<>();
        for (int t = 1; t < threads; t++) {
            long start = t * part, end = t == threads - 1 ? bytes : (t + 1) * part;
            parts.add(copier.submit(() -> MemorySegment.copy(from, offset + start, to, start, end - start)));
        }
        MemorySegment.copy(from, offset, to, 0, threads == 1 ? bytes : part);
        for (Future<?> f : parts) f.get();
    }

    /** GPTQ (Hessian + solve) and RTN of one layer; prints the times. */
    private static void quantizationTime(int out, int in, int sequences, int tokens) {
        SplittableRandom r = new SplittableRandom(11);
        Tensor weight = Tensor.allocate(Shape.of(out, in), DType.F32, Arena.ofAuto());
        for (long i = 0; i < (long) out * in; i++) weight.setFloat(i, (float) (0.02 * r.nextGaussian()));
        float[] channelScale = new float[in];
        for (int k = 0; k < in; k++) channelScale[k] = (float) Math.exp(r.nextGaussian()); // uneven input channels, as real activations have
        List<float[]> calibration = new ArrayList<>();
        for (int s = 0; s < sequences; s++) {
            float[] x = new float[tokens * in];
            for (int i = 0; i < x.length; i++) x[i] = (float) r.nextGaussian() * channelScale[i % in];
            calibration.add(x);
        }
        Map<String, Object> config = Map.of("bits", 4, "group_size", 128, "sym", true, "desc_act", true);
        long t0 = System.nanoTime();
        GptqLayers.roundToNearest(Map.of("bits", 4, "group_size", 128, "sym", true), weight);
        long t1 = System.nanoTime();
        GptqLayers.gptq(config, weight, calibration);
        long t2 = System.nanoTime();
        System.out.println();
        System.out.println("| layer | calibration | RTN s | GPTQ s (Hessian + Cholesky + solve) |");
        System.out.println("|---|---|---|---|");
        System.out.printf(Locale.ROOT, "| %d×%d, 4-bit, g128, act-order | %d sequences × %d tokens | %.2f | %.2f |%n", out, in, sequences, tokens, (t1 - t0) / 1e9,
                (t2 - t1) / 1e9);
    }

    private static double median(double[] v) {
        double[] s = v.clone();
        Arrays.sort(s);
        return s.length % 2 == 1 ? s[s.length / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
    }
}
