package dev.qload.core.kernel;

/**
 * Causal scaled-dot-product attention for one query position over a key/value cache, with
 * grouped-query heads, an optional sliding window and optional attention sinks — transformers'
 * {@code eager_attention_forward} (and GPT-OSS's sink variant) for a single row:
 *
 * <pre>
 *   s_j = scale · q_h · k_{j,g(h)}        for window-visible j ≤ pos, g(h) = h / (heads / kvHeads)
 *   p   = softmax([s_j ..., sink_h])      the sink takes part in the normalisation, then is dropped
 *   o_h = Σ_j p_j · v_{j,g(h)}
 * </pre>
 *
 * A key j is visible from query i when {@code j <= i} and, with a window W, {@code i - j < W}
 * ({@code masking_utils.sliding_window_overlay}).
 */
public final class Attention {
    private Attention() {}

    /**
     * @param q       query vector of all heads at {@code qOff}, heads × headDim
     * @param keys    the layer's key cache, position-major: [position][kvHeads × headDim]
     * @param values  the value cache, same layout
     * @param window  sliding window, or 0 for full causal attention
     * @param sinks   one logit per head, or null
     * @param scores  scratch of at least pos + 2 floats (one more for the sink)
     * @param out     output of all heads at {@code outOff}, heads × headDim
     */
    public static void attend(Kernels k, float[] q, int qOff, float[] keys, float[] values, int pos, int heads, int kvHeads,
                              int headDim, int window, float[] sinks, float scale, float[] scores, float[] out, int outOff) {
        int group = heads / kvHeads;
        int kvStride = kvHeads * headDim;
        int first = window > 0 ? Math.max(0, pos - window + 1) : 0;
        int n = pos - first + 1;
        for (int h = 0; h < heads; h++) {
            int kvOff = (h / group) * headDim;
            int qh = qOff + h * headDim;
            for (int j = first; j <= pos; j++) scores[j - first] = k.dot(q, qh, keys, j * kvStride + kvOff, headDim) * scale;
            int count = n;
            if (sinks != null) scores[count++] = sinks[h];
            k.softmax(scores, 0, count);
            int oh = outOff + h * headDim;
            java.util.Arrays.fill(out, oh, oh + headDim, 0f);
            for (int j = first; j <= pos; j++) k.axpy(scores[j - first], values, j * kvStride + kvOff, out, oh, headDim);
        }
    }
}
