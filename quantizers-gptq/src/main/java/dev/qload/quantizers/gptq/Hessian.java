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
 * so that after N sequences {@code H = 2/N · Σ XᵀX}. That closed form is what is kept here: the
 * sum Σ XᵀX accumulates in place, in double, and {@link #matrix} scales it once, rather than
 * allocating an in × in Gram matrix per batch and rescaling H (two passes over in² doubles per
 * sequence). The two agree to rounding (the reference fixtures' H within 1e-6 relative, their
 * streamed and direct forms within 1e-15). Only the scale depends on how tokens are batched, and
 * GPTQ is invariant to the scale (the dampening is relative to mean(diag H)).
 */
final class Hessian {
    /** Tokens per chunk: the chunk (64 × in doubles) stays in the L2/L3 cache. */
    private static final int TOKEN_CHUNK = 64;

    private final int in;
    /** Lower triangle of Σ XᵀX over every batch so far. */
    private final double[] sum;
    private long samples;

    Hessian(int in) {
        this.in = in;
        this.sum = new double[Math.multiplyExact(in, in)];
    }

    int size() {
        return in;
    }

    long samples() {
        return samples;
    }

    /** Adds one batch: {@code tokens} rows of {@code x} (row-major, {@code in} wide) starting at {@code offset}. */
    void addBatch(float[] x, int offset, int tokens) {
        samples++;
        double[] chunk = new double[in * TOKEN_CHUNK];
        for (int t0 = 0; t0 < tokens; t0 += TOKEN_CHUNK) {
            int n = Math.min(TOKEN_CHUNK, tokens - t0);
            for (int i = 0; i < n * in; i++) chunk[i] = x[offset + t0 * in + i];
            // Row a of the sum gains x[t,a]·x[t, 0..a] for the chunk's tokens: a contiguous update that
            // vectorises, while the chunk (64 tokens, in double) stays in cache; rows in parallel.
            // Tokens are added in order, so the result does not depend on the thread count.
            Parallel.forRange(in, 16, (from, to) -> {
                for (int a = from; a < to; a++) {
                    int row = a * in;
                    for (int t = 0; t < n; t++) {
                        int xt = t * in;
                        double s = chunk[xt + a];
                        if (s != 0) Axpy.add(s, chunk, xt, sum, row, a + 1);
                    }
                }
            });
        }
    }

    /** H = 2/N · Σ XᵀX, full (both triangles), as a fresh array. */
    double[] matrix() {
        double scale = 2.0 / samples;
        double[] full = new double[sum.length];
        for (int a = 0; a < in; a++) {
            for (int b = 0; b <= a; b++) {
                double v = sum[a * in + b] * scale;
                full[a * in + b] = v;
                full[b * in + a] = v;
            }
        }
        return full;
    }
}
