package dev.qload.quantizers.gptq;

import dev.qload.core.kernel.Parallel;
import jdk.incubator.vector.DoubleVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * The GPTQ Hessian of one linear layer's inputs, accumulated batch by batch exactly as AutoGPTQ's
 * {@code GPTQ.add_batch} (auto_gptq/quantization/gptq.py) does, with one calibration sequence per
 * batch ({@code tmp = 1}):
 *
 * <pre>
 * H ← H · n / (n + tmp);  n ← n + tmp;  H ← H + (2 / n) · XᵀX      (X: the batch's tokens × in)
 * </pre>
 *
 * so that after N sequences {@code H = 2/N · Σ XᵀX}. Only the scale depends on how tokens are
 * batched, and GPTQ is invariant to the scale (the dampening is relative to mean(diag H)).
 * The Gram matrix XᵀX is computed in double, a chunk of tokens at a time, from a transposed copy
 * of the chunk so that each dot product reads contiguous memory.
 */
final class Hessian {
    private static final VectorSpecies<Double> D = DoubleVector.SPECIES_PREFERRED;
    /** Tokens per chunk: the transposed chunk (in × 64 doubles) stays in the L2/L3 cache. */
    private static final int TOKEN_CHUNK = 64;

    private final int in;
    private final double[] h;
    private long samples;

    Hessian(int in) {
        this.in = in;
        this.h = new double[Math.multiplyExact(in, in)];
    }

    int size() {
        return in;
    }

    long samples() {
        return samples;
    }

    /** Adds one batch: {@code tokens} rows of {@code x} (row-major, {@code in} wide) starting at {@code offset}. */
    void addBatch(float[] x, int offset, int tokens) {
        double keep = (double) samples / (samples + 1);
        samples++;
        double weight = 2.0 / samples;
        double[] gram = gram(x, offset, tokens);
        Parallel.forRange(in, 16, (from, to) -> {
            for (int a = from; a < to; a++) {
                int row = a * in;
                for (int b = 0; b <= a; b++) h[row + b] = h[row + b] * keep + weight * gram[row + b];
            }
        });
    }

    /** The accumulated H, full (both triangles), as a fresh array. */
    double[] matrix() {
        double[] full = h.clone();
        for (int a = 0; a < in; a++) for (int b = a + 1; b < in; b++) full[a * in + b] = full[b * in + a];
        return full;
    }

    /** Lower triangle of XᵀX. */
    private double[] gram(float[] x, int offset, int tokens) {
        double[] g = new double[in * in];
        double[] chunk = new double[in * TOKEN_CHUNK];
        for (int t0 = 0; t0 < tokens; t0 += TOKEN_CHUNK) {
            int n = Math.min(TOKEN_CHUNK, tokens - t0);
            if (n < TOKEN_CHUNK) java.util.Arrays.fill(chunk, 0);
            for (int t = 0; t < n; t++) {
                int src = offset + (t0 + t) * in;
                for (int a = 0; a < in; a++) chunk[a * TOKEN_CHUNK + t] = x[src + a];
            }
            Parallel.forRange(in, 8, (from, to) -> {
                double[] lanes = new double[D.length()];
                for (int a = from; a < to; a++) {
                    int ra = a * TOKEN_CHUNK, row = a * in;
                    for (int b = 0; b <= a; b++) g[row + b] += dot(chunk, ra, b * TOKEN_CHUNK, lanes);
                }
            });
        }
        return g;
    }

    /**
     * Σ c[a+i]·c[b+i] over a chunk. The lanes are summed in index order, not with
     * {@code reduceLanes(ADD)}, whose order the JIT may change between tiers: the Hessian, and so
     * the codes, must not depend on how warm the JVM is.
     */
    private static double dot(double[] c, int a, int b, double[] lanes) {
        DoubleVector acc = DoubleVector.zero(D);
        int i = 0;
        for (; i <= TOKEN_CHUNK - D.length(); i += D.length()) {
            acc = DoubleVector.fromArray(D, c, a + i).fma(DoubleVector.fromArray(D, c, b + i), acc);
        }
        acc.intoArray(lanes, 0);
        double s = 0;
        for (double lane : lanes) s += lane;
        for (; i < TOKEN_CHUNK; i++) s += c[a + i] * c[b + i];
        return s;
    }
}
