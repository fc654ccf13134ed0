package dev.qload.models.gptoss;

import dev.qload.core.kernel.Kernels;
import dev.qload.core.kernel.Parallel;
import dev.qload.core.nn.LinearForward;
import dev.qload.core.tensor.Tensor;
import java.lang.foreign.MemorySegment;

/**
 * One expert's projection out of a fused dense weight {@code [E, in, out]} (transformers'
 * {@code x @ W} orientation) and bias {@code [E, out]}: {@code y = x · W[e] + b[e]}. Rows of
 * {@code W[e]} are contiguous, so each is widened once per column range and added into every
 * token's output ({@code axpy}); output columns are split across cores.
 */
final class DenseExpertProjection implements LinearForward {
    /** Output columns per task: a 2880-wide BF16 row slice of 256 columns is 512 bytes per input row. */
    private static final int COLUMN_GRAIN = 256;

    private final Tensor weight;
    private final Tensor bias;
    private final int expert;
    private final int in;
    private final int out;

    DenseExpertProjection(Tensor weight, Tensor bias, int expert) {
        this.weight = weight;
        this.bias = bias;
        this.expert = expert;
        this.in = Math.toIntExact(weight.shape().dim(1));
        this.out = Math.toIntExact(weight.shape().dim(2));
    }

    @Override
    public long inFeatures() {
        return in;
    }

    @Override
    public long outFeatures() {
        return out;
    }

    @Override
    public void forward(Kernels k, float[] x, int tokens, float[] y) {
        MemorySegment w = weight.data();
        long base = (long) expert * in * out;
        float[] b = new float[out];
        k.toFloat(bias.data(), bias.dtype(), (long) expert * out, b, 0, out);
        Parallel.forRange((out + COLUMN_GRAIN - 1) / COLUMN_GRAIN, 1, (fromBlock, toBlock) -> {
            int from = fromBlock * COLUMN_GRAIN, to = Math.min(out, toBlock * COLUMN_GRAIN), n = to - from;
            float[] row = new float[n];
            for (int t = 0; t < tokens; t++) System.arraycopy(b, from, y, t * out + from, n);
            for (int i = 0; i < in; i++) {
                k.toFloat(w, weight.dtype(), base + (long) i * out + from, row, 0, n);
                for (int t = 0; t < tokens; t++) k.axpy(x[t * in + i], row, 0, y, t * out + from, n);
            }
        });
    }
}
