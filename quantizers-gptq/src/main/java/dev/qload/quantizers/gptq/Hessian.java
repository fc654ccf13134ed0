package dev.qload.quantizers.gptq;

import dev.qload.core.kernel.Parallel;

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
 * The Gram matrix XᵀX is computed in double.
 */
final class Hessian {
    /** Tokens per chunk: the chunk (64 × in doubles) stays in the L2/L3 cache. */
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

    /**
     * Lower triangle of XᵀX, a chunk of tokens at a time: row a of the result accumulates
     * x[t,a]·x[t, 0..a] over the chunk's tokens, a contiguous update that vectorises, while the
     * chunk (64 tokens, in double) stays in cache; rows in parallel. Tokens are added in order,
     * so the result does not depend on the thread count.
     */
    private double[] gram(float[] x, int offset, int tokens) {
        double[] g = new double[in * in];
        double[] chunk = new double[in * TOKEN_CHUNK];
        for (int t0 = 0; t0 < tokens; t0 += TOKEN_CHUNK) {
            int n = Math.min(TOKEN_CHUNK, tokens - t0);
            for (int i = 0; i < n * in; i++) chunk[i] = x[offset + t0 * in + i];
            Parallel.forRange(in, 16, (from, to) -> {
                for (int a = from; a < to; a++) {
                    int row = a * in;
                    for (int t = 0; t < n; t++) {
                        int xt = t * in;
                        double s = chunk[xt + a];
                        if (s == 0) continue;
                        Axpy.add(s, chunk, xt, g, row, a + 1);
                    }
                }
            });
        }
        return g;
    }
}
