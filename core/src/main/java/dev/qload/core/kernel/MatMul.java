package dev.qload.core.kernel;

import dev.qload.core.tensor.DType;
import dev.qload.core.tensor.Tensor;
import java.lang.foreign.MemorySegment;

/**
 * {@code out = x · Wᵀ + b} for a dense {@code W [out, in]} in F32, BF16 or F16 (PyTorch's
 * {@code F.linear}), for one token (matrix–vector) or several (matrix–matrix). Output rows are
 * split across cores; each weight row is read once per call and reused for every token while it
 * is in the L1 cache, which is what makes prefill cheaper per token than decoding.
 */
public final class MatMul {
    /** Rows per task: enough work (a 4096-wide BF16 row is 8 KB) to amortise scheduling. */
    static final int ROW_GRAIN = 32;

    private MatMul() {}

    /**
     * @param x    tokens × in, row-major
     * @param out  tokens × out, row-major
     * @param bias out values, or null
     */
    public static void linear(Kernels k, Tensor weight, float[] bias, float[] x, int tokens, float[] out) {
        int outDim = Math.toIntExact(weight.shape().dim(0));
        int inDim = Math.toIntExact(weight.shape().dim(1));
        MemorySegment w = weight.data();
        DType dtype = weight.dtype();
        Parallel.forRange(outDim, ROW_GRAIN, (from, to) -> {
            for (int r = from; r < to; r++) {
                long rowOffset = (long) r * inDim;
                float b = bias == null ? 0 : bias[r];
                for (int t = 0; t < tokens; t++) out[t * outDim + r] = k.dot(w, dtype, rowOffset, x, t * inDim, inDim) + b;
            }
        });
    }
}
