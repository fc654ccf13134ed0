package dev.qload.timm.kernel;

import dev.qload.core.kernel.Kernels;
import dev.qload.core.kernel.Parallel;

/**
 * Bidirectional multi-head self-attention over one sequence (a ViT image, a Swin window), the
 * unfused branch timm's attention modules share: {@code softmax((q·scale)·kᵀ + bias)·v}. The input
 * is the output of a fused {@code qkv} projection, {@code [tokens, 3·heads·headDim]}, in timm's
 * {@code reshape(B, N, 3, heads, headDim)} order: all of q, then k, then v, heads contiguous.
 */
public final class SelfAttention {
    /** An additive term on the scores before the softmax (relative position bias, window mask). */
    @FunctionalInterface
    public interface ScoreBias {
        /** Adds to {@code scores[j]} (key j, j &lt; tokens) the bias of query {@code query} in {@code head}. */
        void add(int head, int query, float[] scores);
    }

    private SelfAttention() {}

    /**
     * @param qkv    {@code [tokens, 3·heads·headDim]}, read only
     * @param qkvOff where this sequence starts in {@code qkv}
     * @param bias   or null
     * @param out    receives {@code [tokens, heads·headDim]} at {@code outOff}
     */
    public static void attend(Kernels k, float[] qkv, int qkvOff, int tokens, int heads, int headDim, ScoreBias bias,
                              float[] out, int outOff) {
        int width = heads * headDim;
        int stride = 3 * width;
        float scale = (float) Math.pow(headDim, -0.5); // timm: head_dim ** -0.5
        Parallel.forRange(heads * tokens, 8, (from, to) -> {
            float[] q = new float[headDim];
            float[] scores = new float[tokens];
            for (int task = from; task < to; task++) {
                int h = task / tokens;
                int i = task % tokens;
                int qAt = qkvOff + i * stride + h * headDim;
                for (int d = 0; d < headDim; d++) q[d] = qkv[qAt + d] * scale;
                for (int j = 0; j < tokens; j++) scores[j] = k.dot(q, 0, qkv, qkvOff + j * stride + width + h * headDim, headDim);
                if (bias != null) bias.add(h, i, scores);
                k.softmax(scores, 0, tokens);
                int o = outOff + i * width + h * headDim;
                java.util.Arrays.fill(out, o, o + headDim, 0f);
                for (int j = 0; j < tokens; j++) k.axpy(scores[j], qkv, qkvOff + j * stride + 2 * width + h * headDim, out, o, headDim);
            }
        });
    }
}
